// Package coord coordinates the replicas of one Jibe installation through
// coordination.k8s.io Leases: a Leader (one active agent, hot standbys) or
// Shards (keys spread over every live replica). Both satisfy the agent's
// Ownership (Acquire, Changes) without importing it.
//
// # Leader
//
// client-go's leaderelection on the Lease <name>-leader, with
// ReleaseOnCancel. Acquire grants while this candidate leads and its last
// renewal was sent less than RenewDeadline ago: the others take over only a
// LeaseDuration after they last saw the lease change, so a grant ends
// before the lease can pass to another (given clocks that run at the same
// rate). A lease lost while held closes Lost and ends Run with ErrLost; the
// process exits and comes back as a standby. On a clean exit the lease is
// released only once every grant was released, so a standby takes it at
// its next retry.
//
// # Shards
//
// Every replica keeps the Lease <name>-member-<identity> (label
// jibe.dev/members=<name>, annotation jibe.dev/url), renewed once per
// RetryPeriod and deleted on a clean exit, and watches all of them through
// one informer. A member is live while its renewTime plus its own
// leaseDurationSeconds is in the future. The owner of a key among a set of
// members is the one of highest rendezvous weight (FNV-1a of member and
// key, mixed): a member leaving moves only its keys, one joining takes only
// the keys it wins.
//
// Each member also publishes, on each renewal, a view (annotation
// jibe.dev/view): the member set it has settled on. It publishes the live
// set V only when no key it granted and that is not yet released has
// another owner under V; otherwise it renews with its former view. A member
// its informer shows expired counts as expired only once a read from the
// API server confirmed it (one GET per version of that Lease), so a lagging
// informer never drops a member that still renews. A member that has
// published nothing owns nothing. Member m grants Acquire(k) only when
//
//	(a) m's last renewal was sent less than RenewDeadline ago, and m's
//	    informer holds one of m's writes made since m
//	    last changed its view or resumed renewing after a lapse of
//	    RenewDeadline: m's current epoch;
//	(b) k's owner under m's published view is m (and under the view of a
//	    write in flight, if any: m never grants under an older view after
//	    publishing a newer one);
//	(c) every other member in m's informer, unless confirmed expired,
//	    published a view under which it does not own k.
//
// Why no key has two owners. A published view claims the keys its member
// owns under it. By the publishing rule, from the write on which m granted
// k until the grant is released, every Lease m writes still claims k.
// Suppose m and o both hold grants of k, let w_m and w_o be the first
// writes of the epochs in which they granted, and say w_m was committed
// before w_o (etcd orders all writes). Every write of m from w_m until its
// grant is released claims k: those before the grant carry the same view,
// those after it obey the publishing rule. The informer of the member
// Leases replays one watch in commit order, so its store is always the
// state at some revision; by (a) o granted from a state at or after w_o,
// which holds w_m or a later write of m, all of which claim k. So by (c) o
// had confirmed m expired: a GET at some time q, after o's informer showed
// that version of m's Lease, found m's last committed write x at q
// renewed more than LeaseDuration before q; x is w_m or later. Within an
// epoch, renewals are sent less than RenewDeadline apart, and m grants only
// within RenewDeadline of its last renewal. If m's grant rests on x or an
// earlier write, m granted before x's renewal + RenewDeadline, that is
// more than LeaseDuration − RenewDeadline before q, and then committed no
// renewal for a whole LeaseDuration: m kept a key through a lapse of its
// Lease. Otherwise the epoch's next write after x was sent less than
// RenewDeadline after x's renewal and committed only after q: it took more
// than LeaseDuration − RenewDeadline to commit. So two grants of one key
// overlap only when a member holds a key through a lapse of its Lease, or
// when clocks disagree or a write takes longer than LeaseDuration −
// RenewDeadline (client-go's election rests on the same margin). Leases
// cannot exclude the first case (a process paused or cut off keeps what it
// holds), which is why the journal also fences writers
// (reconcile.Journal.Claim): the former owner's next write fails.
//
// Liveness: a member's view converges to the live set once its grants of
// keys that move are released (at a step boundary), so a key moves one
// RetryPeriod or two after the last release, and a departed member's keys
// move once its Lease expires. Changes signals each change of what Acquire
// depends on: membership, expiry, published views, the member's own
// renewals lapsing.
//
// A member Lease expired for ten of its durations (a pod gone for good) is
// deleted by the live members, on condition of its resourceVersion; a
// member that was only cut off creates it again.
//
// API traffic: one Lease update per replica per RetryPeriod (a Get more on
// a conflict), one Get per version of an expired member's Lease and one
// Delete of each stale one, plus the leader election's own requests; reads
// come from the informer.
package coord
