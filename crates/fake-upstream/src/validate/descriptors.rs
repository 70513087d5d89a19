//! Static message descriptors: the field sets Cloud Code's parser knows, for the envelope and
//! the Vertex-style `GenerateContentRequest` tree (Content, Part, Tool, FunctionDeclaration,
//! the OpenAPI-subset Schema, GenerationConfig, ThinkingConfig, ToolConfig, SafetySetting),
//! plus the setup calls.

/// What a field holds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Str,
    Bool,
    Int,
    Int64,
    Float,
    Double,
    Bytes,
    Enum(&'static EnumDesc),
    Msg(&'static MsgDesc),
    /// google.protobuf.Struct: any JSON object.
    Struct,
    /// google.protobuf.Value: any JSON.
    Value,
    /// A message the fake does not model field by field: any object.
    AnyObject(&'static str),
    /// map<string, string>.
    MapStr,
    /// map<string, Message>.
    MapMsg(&'static MsgDesc),
}

#[derive(Debug)]
pub(crate) struct FieldDesc {
    /// camelCase JSON name; the snake_case proto name is derived.
    pub json: &'static str,
    pub kind: Kind,
    pub repeated: bool,
    pub oneof: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct MsgDesc {
    pub name: &'static str,
    pub fields: &'static [FieldDesc],
}

#[derive(Debug)]
pub(crate) struct EnumDesc {
    pub name: &'static str,
    pub values: &'static [&'static str],
}

impl MsgDesc {
    /// The field a JSON key names (camelCase or snake_case).
    pub fn find(&self, key: &str) -> Option<&FieldDesc> {
        self.fields
            .iter()
            .find(|f| f.json == key || super::to_snake(f.json) == key)
    }
}

const fn f(json: &'static str, kind: Kind) -> FieldDesc {
    FieldDesc {
        json,
        kind,
        repeated: false,
        oneof: None,
    }
}

const fn rep(json: &'static str, kind: Kind) -> FieldDesc {
    FieldDesc {
        json,
        kind,
        repeated: true,
        oneof: None,
    }
}

const fn data(json: &'static str, kind: Kind) -> FieldDesc {
    FieldDesc {
        json,
        kind,
        repeated: false,
        oneof: Some("data"),
    }
}

// ---- envelopes -------------------------------------------------------------------------

pub(crate) static ENVELOPE: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.GenerateContentRequest",
    fields: &[
        f("project", Kind::Str),
        f("model", Kind::Str),
        f("request", Kind::Msg(&GENERATE_CONTENT_REQUEST)),
        f("requestId", Kind::Str),
        f("userAgent", Kind::Str),
        f("requestType", Kind::Str),
        f("userPromptId", Kind::Str),
        rep("enabledCreditTypes", Kind::Str),
    ],
};

pub(crate) static COUNT_ENVELOPE: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.CountTokensRequest",
    fields: &[
        f("request", Kind::Msg(&COUNT_TOKENS_REQUEST)),
        f("model", Kind::Str),
        rep("contents", Kind::Msg(&CONTENT)),
    ],
};

static COUNT_TOKENS_REQUEST: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.CountTokensRequest",
    fields: &[
        f("model", Kind::Str),
        rep("contents", Kind::Msg(&CONTENT)),
        f("systemInstruction", Kind::Msg(&CONTENT)),
        rep("tools", Kind::Msg(&TOOL)),
        f("generationConfig", Kind::Msg(&GENERATION_CONFIG)),
    ],
};

pub(crate) static LOAD_CODE_ASSIST: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.LoadCodeAssistRequest",
    fields: &[
        f("cloudaicompanionProject", Kind::Str),
        f("metadata", Kind::Msg(&CLIENT_METADATA)),
    ],
};

pub(crate) static ONBOARD_USER: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.OnboardUserRequest",
    fields: &[
        f("tierId", Kind::Str),
        f("cloudaicompanionProject", Kind::Str),
        f("metadata", Kind::Msg(&CLIENT_METADATA)),
    ],
};

pub(crate) static FETCH_MODELS: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.FetchAvailableModelsRequest",
    fields: &[f("project", Kind::Str)],
};

static CLIENT_METADATA: MsgDesc = MsgDesc {
    name: "google.internal.cloud.code.v1internal.ClientMetadata",
    fields: &[
        f("ideType", Kind::Enum(&IDE_TYPE)),
        f("ideVersion", Kind::Str),
        f("pluginVersion", Kind::Str),
        f("platform", Kind::Enum(&PLATFORM)),
        f("updateChannel", Kind::Str),
        f("duetProject", Kind::Str),
        f("pluginType", Kind::Enum(&PLUGIN_TYPE)),
        f("ideName", Kind::Str),
    ],
};

static IDE_TYPE: EnumDesc = EnumDesc {
    name: "google.internal.cloud.code.v1internal.ClientMetadata.IdeType",
    values: &[
        "IDE_UNSPECIFIED",
        "VSCODE",
        "INTELLIJ",
        "VSCODE_CLOUD_WORKSTATION",
        "INTELLIJ_CLOUD_WORKSTATION",
        "CLOUD_SHELL",
        "GEMINI_CLI",
        "ANTIGRAVITY",
    ],
};

static PLATFORM: EnumDesc = EnumDesc {
    name: "google.internal.cloud.code.v1internal.ClientMetadata.Platform",
    values: &[
        "PLATFORM_UNSPECIFIED",
        "DARWIN_AMD64",
        "DARWIN_ARM64",
        "LINUX_AMD64",
        "LINUX_ARM64",
        "WINDOWS_AMD64",
    ],
};

static PLUGIN_TYPE: EnumDesc = EnumDesc {
    name: "google.internal.cloud.code.v1internal.ClientMetadata.PluginType",
    values: &[
        "PLUGIN_UNSPECIFIED",
        "CLOUD_CODE",
        "GEMINI",
        "AIPLUGIN_INTELLIJ",
        "AIPLUGIN_STUDIO",
    ],
};

// ---- GenerateContentRequest ------------------------------------------------------------

static GENERATE_CONTENT_REQUEST: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerateContentRequest",
    fields: &[
        rep("contents", Kind::Msg(&CONTENT)),
        f("systemInstruction", Kind::Msg(&CONTENT)),
        f("cachedContent", Kind::Str),
        rep("tools", Kind::Msg(&TOOL)),
        f("toolConfig", Kind::Msg(&TOOL_CONFIG)),
        f("labels", Kind::MapStr),
        rep("safetySettings", Kind::Msg(&SAFETY_SETTING)),
        f("generationConfig", Kind::Msg(&GENERATION_CONFIG)),
        f("sessionId", Kind::Str),
        f(
            "modelArmorConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.ModelArmorConfig"),
        ),
    ],
};

pub(crate) static CONTENT: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.Content",
    fields: &[f("role", Kind::Str), rep("parts", Kind::Msg(&PART))],
};

static PART: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.Part",
    fields: &[
        data("text", Kind::Str),
        data("inlineData", Kind::Msg(&BLOB)),
        data("fileData", Kind::Msg(&FILE_DATA)),
        data("functionCall", Kind::Msg(&FUNCTION_CALL)),
        data("functionResponse", Kind::Msg(&FUNCTION_RESPONSE)),
        data("executableCode", Kind::Msg(&EXECUTABLE_CODE)),
        data("codeExecutionResult", Kind::Msg(&CODE_EXECUTION_RESULT)),
        f("thought", Kind::Bool),
        f("thoughtSignature", Kind::Bytes),
        f("videoMetadata", Kind::Msg(&VIDEO_METADATA)),
        f("partMetadata", Kind::Struct),
        f("mediaResolution", Kind::Value),
    ],
};

static BLOB: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.Blob",
    fields: &[
        f("mimeType", Kind::Str),
        f("data", Kind::Bytes),
        f("displayName", Kind::Str),
    ],
};

static FILE_DATA: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.FileData",
    fields: &[
        f("mimeType", Kind::Str),
        f("fileUri", Kind::Str),
        f("displayName", Kind::Str),
    ],
};

static FUNCTION_CALL: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionCall",
    fields: &[
        f("id", Kind::Str),
        f("name", Kind::Str),
        f("args", Kind::Struct),
    ],
};

static FUNCTION_RESPONSE: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionResponse",
    fields: &[
        f("id", Kind::Str),
        f("name", Kind::Str),
        f("response", Kind::Struct),
        f("willContinue", Kind::Bool),
        f("scheduling", Kind::Enum(&SCHEDULING)),
        rep(
            "parts",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.FunctionResponsePart"),
        ),
    ],
};

static SCHEDULING: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionResponse.Scheduling",
    values: &["SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"],
};

static EXECUTABLE_CODE: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.ExecutableCode",
    fields: &[f("language", Kind::Enum(&LANGUAGE)), f("code", Kind::Str)],
};

static LANGUAGE: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.ExecutableCode.Language",
    values: &["LANGUAGE_UNSPECIFIED", "PYTHON"],
};

static CODE_EXECUTION_RESULT: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.CodeExecutionResult",
    fields: &[f("outcome", Kind::Enum(&OUTCOME)), f("output", Kind::Str)],
};

static OUTCOME: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.CodeExecutionResult.Outcome",
    values: &[
        "OUTCOME_UNSPECIFIED",
        "OUTCOME_OK",
        "OUTCOME_FAILED",
        "OUTCOME_DEADLINE_EXCEEDED",
    ],
};

static VIDEO_METADATA: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.VideoMetadata",
    fields: &[
        f("startOffset", Kind::Str),
        f("endOffset", Kind::Str),
        f("fps", Kind::Double),
    ],
};

// ---- tools -----------------------------------------------------------------------------

static TOOL: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.Tool",
    fields: &[
        rep("functionDeclarations", Kind::Msg(&FUNCTION_DECLARATION)),
        f(
            "googleSearchRetrieval",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.GoogleSearchRetrieval"),
        ),
        f(
            "codeExecution",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.Tool.CodeExecution"),
        ),
        f(
            "googleSearch",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.Tool.GoogleSearch"),
        ),
        f(
            "urlContext",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.UrlContext"),
        ),
        f(
            "computerUse",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.Tool.ComputerUse"),
        ),
        f(
            "retrieval",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.Retrieval"),
        ),
        f(
            "enterpriseWebSearch",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.EnterpriseWebSearch"),
        ),
        f(
            "googleMaps",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.GoogleMaps"),
        ),
    ],
};

static FUNCTION_DECLARATION: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionDeclaration",
    fields: &[
        f("name", Kind::Str),
        f("description", Kind::Str),
        f("parameters", Kind::Msg(&SCHEMA)),
        f("parametersJsonSchema", Kind::Value),
        f("response", Kind::Msg(&SCHEMA)),
        f("responseJsonSchema", Kind::Value),
        f("behavior", Kind::Enum(&BEHAVIOR)),
    ],
};

static BEHAVIOR: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionDeclaration.Behavior",
    values: &["UNSPECIFIED", "BLOCKING", "NON_BLOCKING"],
};

/// Gemini's OpenAPI-subset Schema. Everything JSON Schema has beyond these fields
/// (`additionalProperties`, `$schema`, `$ref`, `$defs`, `const`, `exclusiveMinimum`,
/// `examples`, `oneOf`, `allOf`, `not`, `strict`, ...) is an unknown name.
pub(crate) static SCHEMA: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.Schema",
    fields: &[
        f("type", Kind::Enum(&TYPE)),
        f("format", Kind::Str),
        f("title", Kind::Str),
        f("description", Kind::Str),
        f("nullable", Kind::Bool),
        rep("enum", Kind::Str),
        f("maxItems", Kind::Int64),
        f("minItems", Kind::Int64),
        f("properties", Kind::MapMsg(&SCHEMA)),
        rep("required", Kind::Str),
        f("minProperties", Kind::Int64),
        f("maxProperties", Kind::Int64),
        f("minLength", Kind::Int64),
        f("maxLength", Kind::Int64),
        f("pattern", Kind::Str),
        f("example", Kind::Value),
        rep("anyOf", Kind::Msg(&SCHEMA)),
        rep("propertyOrdering", Kind::Str),
        f("default", Kind::Value),
        f("items", Kind::Msg(&SCHEMA)),
        f("minimum", Kind::Double),
        f("maximum", Kind::Double),
    ],
};

pub(crate) static TYPE: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.Type",
    values: &[
        "TYPE_UNSPECIFIED",
        "STRING",
        "NUMBER",
        "INTEGER",
        "BOOLEAN",
        "ARRAY",
        "OBJECT",
        "NULL",
    ],
};

static TOOL_CONFIG: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.ToolConfig",
    fields: &[
        f("functionCallingConfig", Kind::Msg(&FUNCTION_CALLING_CONFIG)),
        f(
            "retrievalConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.RetrievalConfig"),
        ),
    ],
};

static FUNCTION_CALLING_CONFIG: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionCallingConfig",
    fields: &[
        f("mode", Kind::Enum(&FC_MODE)),
        rep("allowedFunctionNames", Kind::Str),
    ],
};

static FC_MODE: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.FunctionCallingConfig.Mode",
    values: &["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"],
};

static SAFETY_SETTING: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.SafetySetting",
    fields: &[
        f("category", Kind::Enum(&HARM_CATEGORY)),
        f("threshold", Kind::Enum(&HARM_THRESHOLD)),
        f("method", Kind::Enum(&HARM_METHOD)),
    ],
};

static HARM_CATEGORY: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.HarmCategory",
    values: &[
        "HARM_CATEGORY_UNSPECIFIED",
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
        "HARM_CATEGORY_DEROGATORY",
        "HARM_CATEGORY_TOXICITY",
        "HARM_CATEGORY_VIOLENCE",
        "HARM_CATEGORY_SEXUAL",
        "HARM_CATEGORY_MEDICAL",
        "HARM_CATEGORY_DANGEROUS",
        "HARM_CATEGORY_IMAGE_HATE",
        "HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT",
        "HARM_CATEGORY_IMAGE_HARASSMENT",
        "HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_JAILBREAK",
    ],
};

static HARM_THRESHOLD: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.SafetySetting.HarmBlockThreshold",
    values: &[
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
        "BLOCK_LOW_AND_ABOVE",
        "BLOCK_MEDIUM_AND_ABOVE",
        "BLOCK_ONLY_HIGH",
        "BLOCK_NONE",
        "OFF",
    ],
};

static HARM_METHOD: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.SafetySetting.HarmBlockMethod",
    values: &["HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"],
};

static GENERATION_CONFIG: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerationConfig",
    fields: &[
        rep("stopSequences", Kind::Str),
        f("responseMimeType", Kind::Str),
        f("responseSchema", Kind::Msg(&SCHEMA)),
        f("responseJsonSchema", Kind::Value),
        rep("responseModalities", Kind::Enum(&MODALITY)),
        f("candidateCount", Kind::Int),
        f("maxOutputTokens", Kind::Int),
        f("temperature", Kind::Float),
        f("topP", Kind::Float),
        f("topK", Kind::Float),
        f("seed", Kind::Int),
        f("presencePenalty", Kind::Float),
        f("frequencyPenalty", Kind::Float),
        f("responseLogprobs", Kind::Bool),
        f("logprobs", Kind::Int),
        f("enableEnhancedCivicAnswers", Kind::Bool),
        f(
            "speechConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.SpeechConfig"),
        ),
        f("thinkingConfig", Kind::Msg(&THINKING_CONFIG)),
        f("mediaResolution", Kind::Enum(&MEDIA_RESOLUTION)),
        f(
            "routingConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.GenerationConfig.RoutingConfig"),
        ),
        f(
            "modelSelectionConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.ModelSelectionConfig"),
        ),
        f("audioTimestamp", Kind::Bool),
        f(
            "imageConfig",
            Kind::AnyObject("google.cloud.aiplatform.v1beta1.ImageConfig"),
        ),
        f("enableAffectiveDialog", Kind::Bool),
    ],
};

static MODALITY: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerationConfig.Modality",
    values: &["MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"],
};

static MEDIA_RESOLUTION: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerationConfig.MediaResolution",
    values: &[
        "MEDIA_RESOLUTION_UNSPECIFIED",
        "MEDIA_RESOLUTION_LOW",
        "MEDIA_RESOLUTION_MEDIUM",
        "MEDIA_RESOLUTION_HIGH",
    ],
};

static THINKING_CONFIG: MsgDesc = MsgDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerationConfig.ThinkingConfig",
    fields: &[
        f("includeThoughts", Kind::Bool),
        f("thinkingBudget", Kind::Int),
        f("thinkingLevel", Kind::Enum(&THINKING_LEVEL)),
    ],
};

static THINKING_LEVEL: EnumDesc = EnumDesc {
    name: "google.cloud.aiplatform.v1beta1.GenerationConfig.ThinkingConfig.ThinkingLevel",
    values: &[
        "THINKING_LEVEL_UNSPECIFIED",
        "MINIMAL",
        "LOW",
        "MEDIUM",
        "HIGH",
    ],
};

// ---- Gemini API (generativelanguage v1beta), the same messages without the envelope ----

/// `google.ai.generativelanguage.v1beta.GenerateContentRequest` (the model also comes from
/// the path).
pub(crate) static GEMINI_API_REQUEST: MsgDesc = MsgDesc {
    name: "google.ai.generativelanguage.v1beta.GenerateContentRequest",
    fields: &[
        f("model", Kind::Str),
        rep("contents", Kind::Msg(&CONTENT)),
        f("systemInstruction", Kind::Msg(&CONTENT)),
        f("cachedContent", Kind::Str),
        rep("tools", Kind::Msg(&TOOL)),
        f("toolConfig", Kind::Msg(&TOOL_CONFIG)),
        rep("safetySettings", Kind::Msg(&SAFETY_SETTING)),
        f("generationConfig", Kind::Msg(&GENERATION_CONFIG)),
    ],
};

/// `google.ai.generativelanguage.v1beta.CountTokensRequest`.
pub(crate) static GEMINI_API_COUNT: MsgDesc = MsgDesc {
    name: "google.ai.generativelanguage.v1beta.CountTokensRequest",
    fields: &[
        f("model", Kind::Str),
        rep("contents", Kind::Msg(&CONTENT)),
        f("generateContentRequest", Kind::Msg(&GEMINI_API_REQUEST)),
    ],
};
