//! The application layer: the domain flows every transport calls. HTTP routes, the chat WebSocket, detection
//! triggers and the run worker (and, as they come, the scheduler and the MCP server) parse, authorise and
//! present; what a flow does (queue a run, build the runtime agent, start a chat turn, follow a run, cancel it,
//! decide on a waiting call, start triage for detections) is written here once, so transports never borrow from
//! one another.

pub(crate) mod agent_tools;
pub(crate) mod runs;
pub(crate) mod triage;
pub(crate) mod turns;
