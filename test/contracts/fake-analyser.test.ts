import { fakeAnalyser, solidImage } from "../support/fake-analyser.js";
import { analyserInvariants } from "./analyser.contract.js";

// The test double other suites rely on keeps the same port invariants as the real analysers.
analyserInvariants(
  "fake",
  async () => fakeAnalyser(),
  async () => ({ bytes: await solidImage({ r: 200, g: 20, b: 20 }), mediaType: "image/jpeg" }),
);
