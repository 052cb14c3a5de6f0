/** Version of the local pipeline (models, inputs, cues, head): stored as the analysis' prompt version. */
export const PIPELINE_VERSION = "local-2026-12-07.1";

export const LOCAL_MODEL = "photocat-local-1";

/** centernet's pooled MobileNetV3 layer (720 values); the stored name adds the standardisation's digest. */
export const EMBEDDING_BASE = "centernet-mbv3-se14-720";
