/** The run page; the run list pieces are shared with the agent page's run history. */
export { RunPage } from "./RunPage";
