/** `/agents/new`: create an agent (name, prompt, planning, tools, approval policy, budgets). */
import { useState } from "react";
import { Link, Navigate, useNavigate } from "react-router";
import { Page, PageHeader, PageLoading, toast } from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import { AgentForm } from "./AgentForm";
import { defaultValues, toCreateRequest } from "./agentForm";
import { useCreateAgent } from "./queries";
import { linkClass } from "./ui";

export function AgentNewPage() {
  const { can, loaded } = usePermissions();
  const navigate = useNavigate();
  const create = useCreateAgent();
  const [initial] = useState(defaultValues);

  if (!loaded) return <PageLoading />;
  if (!can("agents_write")) return <Navigate to="/agents" replace />;

  return (
    <Page title="New agent" className="max-w-4xl">
      <PageHeader
        title="New agent"
        description={
          <>
            Back to{" "}
            <Link to="/agents" className={linkClass}>
              all agents
            </Link>
          </>
        }
      />
      <AgentForm
        initial={initial}
        create
        submitLabel="Create agent"
        submitting={create.isPending}
        problem={create.error}
        onSubmit={(values) =>
          create.mutate(toCreateRequest(values), {
            onSuccess: (agent) => {
              toast.success(`Created ${agent.name}.`);
              void navigate(`/agents/${agent.id}`);
            },
          })
        }
        footer={
          <Link to="/agents" className={linkClass}>
            Cancel
          </Link>
        }
      />
    </Page>
  );
}
