/** The agent pages: the list, the new-agent form and one agent's detail (settings, prompts, triggers, runs). */
export { AgentsPage } from "./AgentsPage";
export { AgentNewPage } from "./AgentNewPage";
export { AgentDetailPage } from "./AgentDetailPage";
