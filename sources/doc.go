// Package sources turns what is in Git (or, for local development, in a
// folder) into immutable revisions of applications that the reconcile
// engine consumes.
//
// A Git source is polled by one poller per repository and branch, shared by
// every configured source and application in it. An unchanged poll costs
// one request (the branch's advertised references); a moved branch costs a
// shallow fetch of the new commit only. Clones live on disk under the state
// directory and are reopened per poll, so memory does not grow with the
// number of repositories.
//
// Each poll that finds a new commit yields one Update per configured source:
// the commit, how the branch got there (fast-forward, force push) and, for
// every application folder, whether it was added, modified, removed or left
// untouched, with a Revision whose Files read the folder as it is in that
// commit. Revisions are immutable: they read Git objects by hash, which no
// later fetch rewrites.
//
// A Dir source watches a local folder with fsnotify and yields the same
// Updates, identified by a content hash of the folder.
//
// Webhook handlers verify GitHub deliveries and turn them into an immediate
// poll of the matching repository; the fetched commit, not the payload, is
// the truth.
package sources
