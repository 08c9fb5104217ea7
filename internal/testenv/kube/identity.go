package kube

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
)

// NamespaceAdmin is the default rule of ServiceAccountConfig: everything,
// but only inside the Role's namespace.
var NamespaceAdmin = rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}

// ServiceAccountConfig creates ServiceAccount name in namespace, bound to a
// Role of the same name that grants rules (NamespaceAdmin when none are
// given) in that namespace only, and returns a client config authenticating
// as the account with a bound token from the TokenRequest API. Requests
// outside the namespace get Forbidden, as they would for a deploy agent with a
// namespaced Role.
func (c *Cluster) ServiceAccountConfig(ctx context.Context, namespace, name string, rules ...rbacv1.PolicyRule) (*rest.Config, error) {
	if len(rules) == 0 {
		rules = []rbacv1.PolicyRule{NamespaceAdmin}
	}
	meta := metav1.ObjectMeta{Name: name, Namespace: namespace}
	core, rbac := c.client.CoreV1(), c.client.RbacV1()
	if _, err := core.ServiceAccounts(namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create service account %s/%s: %w", namespace, name, err)
	}
	if _, err := rbac.Roles(namespace).Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: rules}, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create role %s/%s: %w", namespace, name, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: namespace}},
	}
	if _, err := rbac.RoleBindings(namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create role binding %s/%s: %w", namespace, name, err)
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
	tok, err := core.ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request token for %s/%s: %w", namespace, name, err)
	}
	return &rest.Config{
		Host:            c.config.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
		BearerToken:     tok.Status.Token,
		QPS:             c.config.QPS,
		Burst:           c.config.Burst,
	}, nil
}
