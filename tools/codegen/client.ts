// A frontend's use of the generated types: it compiles only if the guide's queries, the
// schema and the generated client agree (issue 18, codegen in CI).
import type {
  ClerkQueueQuery,
  DepartmentInboxQuery,
  SupervisionDashboardQuery,
} from "./build/types";

export function queueCount(data: ClerkQueueQuery): number {
  return data.viewer.agency?.workQueue.totalCount ?? 0;
}

export function pendingReferrals(data: DepartmentInboxQuery): number | null | undefined {
  return data.referrals.totalCount;
}

export function overdue(data: SupervisionDashboardQuery): number {
  return data.monthlyReminderList.overdue.length;
}

export function referralStatus(data: DepartmentInboxQuery): string[] {
  return data.referrals.edges.map((e) => e.node.status);
}
