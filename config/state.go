package config

import (
	"cmp"
	"net"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The defaults of state.kubernetes.
const (
	DefaultStateName     = "jibe"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// defaultKubernetesState fills the unset fields of state.kubernetes: the
// identity from $POD_NAME or the host name, the advertised URL from
// $POD_IP (or the host name) and the listen port.
func defaultKubernetesState(k *KubernetesState, listen string) {
	if k == nil {
		return
	}
	if k.Name == "" {
		k.Name = DefaultStateName
	}
	if k.Identity == "" {
		host, _ := os.Hostname()
		k.Identity = cmp.Or(os.Getenv("POD_NAME"), host)
	}
	if k.AdvertiseURL == "" {
		host, _ := os.Hostname()
		_, port, _ := net.SplitHostPort(listen)
		k.AdvertiseURL = "http://" + net.JoinHostPort(cmp.Or(os.Getenv("POD_IP"), host), cmp.Or(port, "8080"))
	}
	defaultDuration(&k.LeaseDuration, DefaultLeaseDuration)
	defaultDuration(&k.RenewDeadline, DefaultRenewDeadline)
	defaultDuration(&k.RetryPeriod, DefaultRetryPeriod)
}

// MemberLeaseName is the name of the Lease by which identity announces
// itself among the agents of state.kubernetes.name.
func MemberLeaseName(name, identity string) string { return name + "-member-" + identity }

// LeaderLeaseName is the name of the leader's Lease.
func LeaderLeaseName(name string) string { return name + "-leader" }

// kubernetesState checks state.kubernetes: the names it makes must be
// valid Kubernetes names, the cluster one of kubernetes.clusters, and
// the durations ordered as leader election needs them.
func (v *validator) kubernetesState(k *KubernetesState, clusters map[string]bool) {
	if k == nil {
		return
	}
	const f = "state.kubernetes"
	if k.Cluster != "" && !clusters[k.Cluster] {
		v.errorf(f+".cluster", "the value names no cluster defined under kubernetes.clusters; name one, or leave it out to use the agent's own cluster (in-cluster)")
	}
	if len(validation.IsDNS1123Label(k.Namespace)) > 0 {
		v.errorf(f+".namespace", "the value is not a namespace name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit")
	}
	// The name is a label value (jibe.dev/members) and prefixes Lease
	// and journal object names.
	if errs := validation.IsDNS1123Label(k.Name); len(errs) > 0 || len(k.Name) > 40 {
		v.errorf(f+".name", "the value is not a valid name prefix: use at most 40 lowercase letters, digits and '-', starting and ending with a letter or digit")
	}
	if len(validation.IsDNS1123Subdomain(MemberLeaseName(k.Name, k.Identity))) > 0 {
		v.errorf(f+".identity", "the value cannot end this agent's Lease name <name>-member-<identity>: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters in all; set identity (or POD_NAME)")
	}
	if k.AdvertiseURL != "" {
		v.httpURL(f+".advertiseURL", k.AdvertiseURL)
	}
	v.leaseDurations(f, k)
}

// leaseDurations checks that 0 < retryPeriod < renewDeadline <
// leaseDuration.
func (v *validator) leaseDurations(f string, k *KubernetesState) {
	lease, renew, retry := k.LeaseDuration.Duration, k.RenewDeadline.Duration, k.RetryPeriod.Duration
	for field, d := range map[string]time.Duration{"leaseDuration": lease, "renewDeadline": renew, "retryPeriod": retry} {
		if d <= 0 {
			v.errorf(f+"."+field, "must be more than 0")
		}
	}
	if renew > 0 && lease > 0 && renew >= lease {
		v.errorf(f+".renewDeadline", "must be shorter than leaseDuration (%s): a holder must stop acting before another may take over", lease)
	}
	if retry > 0 && renew > 0 && retry >= renew {
		v.errorf(f+".retryPeriod", "must be shorter than renewDeadline (%s), so that a renewal is tried more than once", renew)
	}
}
