/** Run plans (what a run needs against the adapter's limits), re-exported for the front ends. */
export { describePlan, planRun, type RunPlan, type PlanItem } from '../prune/plan';
