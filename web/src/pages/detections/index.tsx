/** The detection pages: the queue, one detection, and the rules. */
export { DetectionsPage } from "./DetectionsPage";
export { DetectionDetailPage } from "./DetectionDetailPage";
export { DetectionRulesPage } from "./RulesPage";
