//! [`ResponsesContext`]: what a Responses answer needs from its request beyond
//! the IR.
//!
//! Why a side structure and not IR fields: everything here is specific to the
//! Responses wire — which tool names must come back as `custom_tool_call` or
//! `local_shell_call` items rather than `function_call`, the request fields the
//! `response` object echoes, and the server-side state (`previous_response_id`,
//! `conversation`, `item_reference`) that only the gateway can accept or refuse.
//! No upstream encoder has a use for any of it, so the IR stays protocol-neutral;
//! the gateway keeps the context beside the request (typed request context) and
//! hands it to the encoder.

use crate::openai::ResponsesResponse;

/// How a tool call must be rendered as an output item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsesToolKind {
    /// `function_call` with JSON `arguments`.
    Function,
    /// `custom_tool_call` with free-form `input` (the IR call's `{"input": …}`).
    Custom,
    /// `local_shell_call` with an `exec` action (the IR call's `{"command", …}`).
    LocalShell,
}

/// The name under which the `local_shell` tool is offered to the upstream.
pub const LOCAL_SHELL_TOOL: &str = "local_shell";

/// What the decoder learned that the IR does not carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponsesContext {
    /// Names of `custom` tools.
    pub custom_tools: Vec<String>,
    /// Whether the `local_shell` tool was declared.
    pub local_shell: bool,
    /// Tools the upstream cannot run, dropped: their `type`, or `type:name`
    /// (`namespace:mcp__github`, `file_search`). For a debug log.
    pub dropped_tools: Vec<String>,
    /// Input items skipped because no upstream can use them (`web_search_call`,
    /// `compaction`, …): their types. For a debug log.
    pub skipped_items: Vec<String>,
    /// Ids of `item_reference` items. The gateway stores no items: it refuses the
    /// request (400) unless it can resolve them.
    pub item_references: Vec<String>,
    /// `previous_response_id`: the gateway answers 400 unless it kept that response.
    pub previous_response_id: Option<String>,
    /// `conversation` id: server-side state, likewise.
    pub conversation: Option<String>,
    /// The `response` object as far as the request determines it: the echoed
    /// request fields (`tools`, `tool_choice`, `text`, `reasoning`, …), with an empty
    /// `id`, `output` and `usage`. Encoders fill in the rest.
    pub template: ResponsesResponse,
}

impl ResponsesContext {
    /// How a call of the tool `name` comes back.
    pub fn tool_kind(&self, name: &str) -> ResponsesToolKind {
        if self.local_shell && name == LOCAL_SHELL_TOOL {
            ResponsesToolKind::LocalShell
        } else if self.custom_tools.iter().any(|c| c == name) {
            ResponsesToolKind::Custom
        } else {
            ResponsesToolKind::Function
        }
    }

    /// Whether the gateway must refuse the request for want of stored state
    /// (`previous_response_id`, `conversation` or `item_reference`), absent a store.
    pub fn needs_stored_state(&self) -> bool {
        self.previous_response_id.is_some()
            || self.conversation.is_some()
            || !self.item_references.is_empty()
    }
}
