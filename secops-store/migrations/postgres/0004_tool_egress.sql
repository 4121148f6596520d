-- The private or loopback ranges (CIDR) a tool configuration's calls may reach besides the public internet,
-- e.g. an on-premises Splunk at 10.20.0.5/32. Empty: public addresses only.
ALTER TABLE tool_configs ADD COLUMN egress_allow jsonb NOT NULL DEFAULT '[]';
