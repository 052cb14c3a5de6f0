/** Version of the local pipeline (models, inputs, cues, head): stored as the analysis' prompt version. */
export const PIPELINE_VERSION = "local-2026-11-26.2";

export const LOCAL_MODEL = "photocat-local-1";

/** Names the embedding the category head and correction learning use; bump when the vector changes. */
export const EMBEDDING_MODEL = "centernet-mbv3-se14-mean-720";
