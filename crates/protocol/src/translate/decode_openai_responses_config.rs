//! OpenAI Responses tools, tool choice, text format and reasoning settings → IR
//! (the rules are listed in [`super::decode_openai_responses`]).

use serde_json::{Value, json};

use super::TranslateError;
use super::responses_context::{LOCAL_SHELL_TOOL, ResponsesContext};
use crate::ir::{
    FunctionTool, ReasoningEffort, ResponseFormat, ThinkingConfig, ThinkingMode, Tool, ToolChoice,
};
use crate::json::RawJson;
use crate::openai::{ResponsesReasoningConfig, ResponsesTextFormat, ResponsesTool};

pub(super) fn decode_tool(
    tool: ResponsesTool,
    i: usize,
    tools: &mut Vec<Tool>,
    ctx: &mut ResponsesContext,
) -> Result<(), TranslateError> {
    let path = format!("tools[{i}]");
    let name = || {
        tool.name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| TranslateError::new(format!("{path}.name"), "required"))
    };
    match tool.kind.as_str() {
        "function" => tools.push(Tool::Function(FunctionTool {
            name: name()?,
            description: tool.description.filter(|d| !d.is_empty()),
            parameters: tool
                .parameters
                .filter(|p| !p.is_null())
                .map_or_else(RawJson::empty_object_schema, RawJson::from),
            strict: tool.strict,
            cache_control: None,
        })),
        "custom" => {
            let name = name()?;
            ctx.custom_tools.push(name.clone());
            tools.push(Tool::Function(FunctionTool {
                name,
                description: Some(custom_description(
                    tool.description.as_deref(),
                    tool.format.as_ref(),
                )),
                parameters: RawJson::from(json!({
                    "type": "object",
                    "properties": {"input": {
                        "type": "string",
                        "description": "The raw free-form input for this tool, exactly as the tool expects it."
                    }},
                    "required": ["input"]
                })),
                strict: None,
                cache_control: None,
            }));
        }
        "local_shell" => {
            ctx.local_shell = true;
            tools.push(Tool::Function(local_shell_function()));
        }
        kind if kind.starts_with("web_search") => {
            if !tools.contains(&Tool::WebSearch) {
                tools.push(Tool::WebSearch);
            }
        }
        "code_interpreter" => {
            if !tools.contains(&Tool::CodeExecution) {
                tools.push(Tool::CodeExecution);
            }
        }
        kind => ctx.dropped_tools.push(match tool.name.as_deref() {
            Some(name) if !name.is_empty() => format!("{kind}:{name}"),
            _ => kind.to_owned(),
        }),
    }
    Ok(())
}

/// A custom tool's description for an upstream that only knows functions.
fn custom_description(description: Option<&str>, format: Option<&Value>) -> String {
    let mut out = description.unwrap_or("").trim().to_owned();
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str("This tool takes free-form text: pass it whole as the `input` string.");
    if let Some(format) = format
        && format.get("type").and_then(Value::as_str) == Some("grammar")
        && let Some(definition) = format.get("definition").and_then(Value::as_str)
    {
        let syntax = format.get("syntax").and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!(
            " The input must match this {syntax} grammar:\n{definition}"
        ));
    }
    out
}

/// The function that stands for the `local_shell` tool. Codex runs the answer's
/// `action.command` as an argv, in `working_directory`, for at most `timeout_ms`.
fn local_shell_function() -> FunctionTool {
    FunctionTool {
        name: LOCAL_SHELL_TOOL.to_owned(),
        description: Some(
            "Runs a command on the user's machine and returns its output.".to_owned(),
        ),
        parameters: RawJson::from(json!({
            "type": "object",
            "properties": {
                "command": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "The program and its arguments, e.g. [\"bash\", \"-lc\", \"ls -la\"]."
                },
                "workdir": {"type": "string", "description": "The working directory."},
                "timeout_ms": {"type": "integer", "description": "The timeout in milliseconds."}
            },
            "required": ["command"]
        })),
        strict: None,
        cache_control: None,
    }
}

pub(super) fn decode_tool_choice(choice: &Value) -> Result<ToolChoice, TranslateError> {
    let path = "tool_choice";
    match choice {
        Value::Null => Ok(ToolChoice::Auto),
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(TranslateError::new(
                path,
                format!("unsupported value `{other}`"),
            )),
        },
        Value::Object(obj) => match obj.get("type").and_then(Value::as_str).unwrap_or("") {
            "function" | "custom" => obj
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(|n| ToolChoice::Tool(n.to_owned()))
                .ok_or_else(|| TranslateError::new(format!("{path}.name"), "required")),
            "local_shell" => Ok(ToolChoice::Tool(LOCAL_SHELL_TOOL.to_owned())),
            "allowed_tools" => Ok(match obj.get("mode").and_then(Value::as_str) {
                Some("required") => ToolChoice::Required,
                _ => ToolChoice::Auto,
            }),
            // A hosted tool (web search, file search, MCP …) cannot be forced.
            _ => Ok(ToolChoice::Auto),
        },
        _ => Err(TranslateError::new(path, "expected a string or an object")),
    }
}

pub(super) fn decode_text_format(
    format: ResponsesTextFormat,
) -> Result<ResponseFormat, TranslateError> {
    match format.kind.as_str() {
        "text" | "" => Ok(ResponseFormat::Text),
        "json_object" => Ok(ResponseFormat::JsonObject),
        "json_schema" => {
            let schema = format
                .schema
                .ok_or_else(|| TranslateError::new("text.format.schema", "required"))?;
            Ok(ResponseFormat::JsonSchema {
                name: format.name.filter(|n| !n.is_empty()),
                schema,
                strict: format.strict,
            })
        }
        other => Err(TranslateError::new(
            "text.format.type",
            format!("unsupported value `{other}`"),
        )),
    }
}

pub(super) fn decode_reasoning(
    r: &ResponsesReasoningConfig,
) -> Result<ThinkingConfig, TranslateError> {
    let effort = match r.effort.as_deref() {
        None => None,
        Some(s) => Some(ReasoningEffort::parse(s).ok_or_else(|| {
            TranslateError::new("reasoning.effort", format!("unsupported value `{s}`"))
        })?),
    };
    let disabled = effort == Some(ReasoningEffort::None);
    let summary = r.summary.as_deref().or(r.generate_summary.as_deref());
    Ok(ThinkingConfig {
        mode: if disabled {
            ThinkingMode::Disabled
        } else {
            ThinkingMode::Enabled
        },
        budget_tokens: None,
        effort,
        include_thoughts: !disabled && summary != Some("none"),
    })
}
