//! Token counting without a tokenizer: a local estimate over an IR request, and
//! the Cloud Code `countTokens` body for an exact upstream count.
//!
//! The estimate (documented so that callers know what they get):
//! - text: one token per 4 ASCII characters (rounded up) plus one per non-ASCII
//!   character — about right for English and code, and for CJK text, where a
//!   character is roughly a token; it over-counts accented Latin text;
//! - each image or file: 258 tokens (Gemini's count for one image tile);
//! - tool calls and results: their name and JSON text as text;
//! - tool definitions: name, description and schema JSON as text;
//! - 4 tokens of framing per message and per system part, 3 per request.
//!
//! It is meant for `countTokens` answers and budgeting, not for billing.

use crate::cloudcode::CloudCodeCountTokensRequest;
use crate::ir::{ContentBlock, Request, Tool, ToolResultContent};

use super::TranslateError;

/// Tokens per image or file.
pub const MEDIA_TOKENS: u64 = 258;
const MESSAGE_OVERHEAD: u64 = 4;
const REQUEST_OVERHEAD: u64 = 3;

/// Estimated tokens of `text`.
pub fn estimate_text_tokens(text: &str) -> u64 {
    let mut ascii = 0u64;
    let mut other = 0u64;
    for c in text.chars() {
        if c.is_ascii() {
            ascii += 1;
        } else {
            other += 1;
        }
    }
    ascii.div_ceil(4) + other
}

/// Estimated prompt tokens of `req` (system, messages and tools).
pub fn estimate_tokens(req: &Request) -> u64 {
    let mut total = REQUEST_OVERHEAD;
    for part in &req.system {
        total += MESSAGE_OVERHEAD + estimate_text_tokens(&part.text);
    }
    for message in &req.messages {
        total += MESSAGE_OVERHEAD;
        for block in &message.content {
            total += match block {
                ContentBlock::Text { text } | ContentBlock::Thinking { text, .. } => {
                    estimate_text_tokens(text)
                }
                ContentBlock::RedactedThinking { .. } => 0,
                ContentBlock::Image { .. } | ContentBlock::File { .. } => MEDIA_TOKENS,
                ContentBlock::ToolCall {
                    name, arguments, ..
                } => estimate_text_tokens(name) + estimate_text_tokens(&arguments.to_string()),
                ContentBlock::ToolResult { content, .. } => content
                    .iter()
                    .map(|c| match c {
                        ToolResultContent::Text(t) => estimate_text_tokens(t),
                        ToolResultContent::Image(_) => MEDIA_TOKENS,
                    })
                    .sum(),
            };
        }
    }
    for tool in &req.tools {
        total += match tool {
            Tool::Function(f) => {
                MESSAGE_OVERHEAD
                    + estimate_text_tokens(&f.name)
                    + f.description.as_deref().map_or(0, estimate_text_tokens)
                    + estimate_text_tokens(&f.parameters.to_string())
            }
            Tool::WebSearch | Tool::CodeExecution => MESSAGE_OVERHEAD,
        };
    }
    total
}

/// The Cloud Code `countTokens` body for `req` (the service counts `contents`
/// only, so system and tools are not part of it).
pub fn encode_cloudcode_count_tokens<'a>(
    req: &'a Request,
    upstream_model: &str,
) -> Result<CloudCodeCountTokensRequest<'a>, TranslateError> {
    let gemini = super::encode_gemini_request(req, upstream_model)?;
    Ok(CloudCodeCountTokensRequest::new(
        upstream_model,
        gemini.contents,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Message, SystemPart};
    use crate::translate::decode_gemini_count_tokens;
    use serde_json::json;

    #[test]
    fn text_estimate_counts_ascii_by_four_and_other_chars_singly() {
        assert_eq!(estimate_text_tokens(""), 0);
        assert_eq!(estimate_text_tokens("abcd"), 1);
        assert_eq!(estimate_text_tokens("abcde"), 2);
        assert_eq!(estimate_text_tokens("日本語"), 3);
    }

    #[test]
    fn both_count_tokens_forms_decode_and_estimate() {
        let bare = decode_gemini_count_tokens(
            json!({"contents": [{"role": "user", "parts": [{"text": "hello world!"}]}]})
                .to_string()
                .as_bytes(),
            "models/gemini-2.5-flash",
        )
        .unwrap();
        let wrapped = decode_gemini_count_tokens(
            json!({"generateContentRequest": {
                "model": "models/gemini-2.5-pro",
                "contents": [{"role": "user", "parts": [{"text": "hello world!"}, {"inlineData": {"mimeType": "image/png", "data": "AA"}}]}],
                "systemInstruction": {"parts": [{"text": "be brief"}]}
            }})
            .to_string()
            .as_bytes(),
            "gemini-2.5-flash",
        )
        .unwrap();
        assert_eq!(bare.model, "gemini-2.5-flash");
        assert_eq!(wrapped.model, "gemini-2.5-pro");
        // 3 + (4 + 3)
        assert_eq!(estimate_tokens(&bare), 10);
        // 3 + (4 + 2) + (4 + 3 + 258)
        assert_eq!(estimate_tokens(&wrapped), 274);
    }

    #[test]
    fn the_cloud_code_body_carries_model_and_contents() {
        let req = Request {
            system: vec![SystemPart::new("s")],
            messages: vec![Message::user_text("hi")],
            ..Request::default()
        };
        let body = encode_cloudcode_count_tokens(&req, "gemini-2.5-flash").unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"request": {"model": "models/gemini-2.5-flash", "contents": [{"role": "user", "parts": [{"text": "hi"}]}]}})
        );
    }
}
