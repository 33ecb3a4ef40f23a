/**
 * The cluster as atcad reads it afresh before a fence (crm_mon, corosync-quorumtool): who
 * votes, who is online, whether this partition is quorate, and how many votes quorum takes.
 */
export interface ClusterView {
  readonly withQuorum: boolean;
  /** Voting members (corosync nodes, not remote or guest nodes) online and not unclean. */
  readonly votersOnline: readonly string[];
  /** Voting members the cluster knows, online or not. */
  readonly votersTotal: number;
  /** Votes needed for quorum, when the cluster reports it (corosync's votequorum). */
  readonly quorum: number | undefined;
}
