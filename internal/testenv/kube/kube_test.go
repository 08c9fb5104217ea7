package kube_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

const (
	goodImage   = "registry.example/jibe/app:1"
	goodImage2  = "registry.example/jibe/app:2"
	brokenImage = "registry.example/jibe/app:broken"
	slowLabel   = "testenv.jibe.dev/slow"
	slowDelay   = 3 * time.Second
	waitTimeout = 90 * time.Second // a loaded 2-core machine
)

// testOptions adds the opt-in stages these tests exercise.
var testOptions = kube.Options{PodStages: []kube.PodStage{
	{Name: "broken-image", Behavior: kube.NeverReady, Select: kube.PodSelector{Image: brokenImage}},
	{Name: "slow", Behavior: kube.ReadyAfter, Select: kube.PodSelector{Labels: map[string]string{slowLabel: "true"}}, Delay: slowDelay},
}}

func TestMain(m *testing.M) {
	if os.Getenv(crashHelperEnv) != "" {
		crashHelper()
		return
	}
	kube.Main(m, testOptions)
}

// crashHelperEnv makes the test binary start a cluster, print its PIDs and
// panic without calling Stop (see TestMain).
const crashHelperEnv = "JIBE_KUBE_CRASH_HELPER"

func crashHelper() {
	c, err := kube.Start(context.Background(), kube.Options{Nodes: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Printf("DIR %s\n", c.Dir())
	fmt.Printf("PIDS %s\n", strings.Trim(fmt.Sprint(c.PIDs()), "[]"))
	panic("deliberate panic with a running cluster")
}

// deployment is the desired state of a test Deployment.
type deployment struct {
	name, image      string
	replicas         int32
	podLabels        map[string]string
	progressDeadline int32 // seconds; 0 leaves the API default
}

// apply server-side applies d, as Jibe does.
func (d deployment) apply(ctx context.Context, cs kubernetes.Interface, ns string) (*appsv1.Deployment, error) {
	labels := map[string]string{"app": d.name}
	for k, v := range d.podLabels {
		labels[k] = v
	}
	spec := appsv1ac.DeploymentSpec().
		WithReplicas(d.replicas).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": d.name})).
		WithTemplate(corev1ac.PodTemplateSpec().
			WithLabels(labels).
			WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("app").WithImage(d.image))))
	if d.progressDeadline > 0 {
		spec.WithProgressDeadlineSeconds(d.progressDeadline)
	}
	return cs.AppsV1().Deployments(ns).Apply(ctx, appsv1ac.Deployment(d.name, ns).WithSpec(spec),
		metav1.ApplyOptions{FieldManager: "jibe-test", Force: true})
}

// waitDeployment polls the Deployment until done returns true.
func waitDeployment(t *testing.T, cs kubernetes.Interface, ns, name string, done func(*appsv1.Deployment) bool) *appsv1.Deployment {
	t.Helper()
	var last *appsv1.Deployment
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		last, lastErr = cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return lastErr == nil && done(last), nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s: condition not met within %s (%v); last get error: %v; last status: %s",
			ns, name, waitTimeout, err, lastErr, describe(last))
	}
	return last
}

// describe summarises a Deployment's status for failure messages.
func describe(d *appsv1.Deployment) string {
	if d == nil {
		return "none"
	}
	s := d.Status
	out := fmt.Sprintf("generation %d/%d, replicas %d, updated %d, ready %d, available %d",
		s.ObservedGeneration, d.Generation, s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas)
	for _, c := range s.Conditions {
		out += fmt.Sprintf(", %s=%s (%s)", c.Type, c.Status, c.Reason)
	}
	return out
}

// rolledOut is kubectl rollout status's success test.
func rolledOut(d *appsv1.Deployment) bool {
	want := *d.Spec.Replicas
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want &&
		s.Replicas == want && s.AvailableReplicas == want &&
		condition(d, appsv1.DeploymentAvailable) == corev1.ConditionTrue
}

func condition(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) corev1.ConditionStatus {
	for _, c := range d.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

func progressDeadlineExceeded(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing {
			return c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded"
		}
	}
	return false
}

func listPods(t *testing.T, cs kubernetes.Interface, ns, app string) []corev1.Pod {
	t.Helper()
	pods, err := cs.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	return pods.Items
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestServerSideAppliedDeploymentBecomesAvailable(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	cs, ns := c.Clientset(), c.NewNamespace(t)
	d := deployment{name: "web", image: goodImage, replicas: 3}
	if _, err := d.apply(t.Context(), cs, ns); err != nil {
		t.Fatalf("apply: %v", err)
	}
	waitDeployment(t, cs, ns, d.name, rolledOut)

	pods := listPods(t, cs, ns, d.name)
	if len(pods) != 3 {
		t.Fatalf("got %d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if !strings.HasPrefix(p.Spec.NodeName, "kwok-node-") || p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			t.Errorf("pod %s: node %q phase %s ready %t; want a Running, Ready pod on a kwok node",
				p.Name, p.Spec.NodeName, p.Status.Phase, podReady(&p))
		}
	}
}

func TestImageUpdateRollsOut(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	cs, ns := c.Clientset(), c.NewNamespace(t)
	d := deployment{name: "web", image: goodImage, replicas: 3}
	if _, err := d.apply(t.Context(), cs, ns); err != nil {
		t.Fatalf("apply: %v", err)
	}
	waitDeployment(t, cs, ns, d.name, rolledOut)

	d.image = goodImage2
	applied, err := d.apply(t.Context(), cs, ns)
	if err != nil {
		t.Fatalf("apply update: %v", err)
	}
	got := waitDeployment(t, cs, ns, d.name, func(d *appsv1.Deployment) bool {
		return d.Generation == applied.Generation && rolledOut(d)
	})
	if got.Generation < 2 {
		t.Errorf("generation %d after an image update, want >= 2", got.Generation)
	}
	for _, p := range listPods(t, cs, ns, d.name) {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image != goodImage2 {
			t.Errorf("pod %s runs %s after the rollout, want %s", p.Name, p.Spec.Containers[0].Image, goodImage2)
		}
	}
}

func TestPodsThatNeverBecomeReadyExceedTheProgressDeadline(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	cs := c.Clientset()
	tests := []struct {
		name   string
		first  deployment // rolled out successfully before broken, if set
		broken deployment
	}{{
		name:   "new deployment with the never-ready label",
		broken: deployment{name: "web", image: goodImage, replicas: 2, podLabels: map[string]string{kube.NeverReadyLabel: "true"}},
	}, {
		name:   "update to an image selected by an opt-in stage",
		first:  deployment{name: "web", image: goodImage, replicas: 2},
		broken: deployment{name: "web", image: brokenImage, replicas: 2},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := c.NewNamespace(t)
			if tt.first.name != "" {
				if _, err := tt.first.apply(t.Context(), cs, ns); err != nil {
					t.Fatalf("apply: %v", err)
				}
				waitDeployment(t, cs, ns, tt.first.name, rolledOut)
			}
			tt.broken.progressDeadline = 2
			if _, err := tt.broken.apply(t.Context(), cs, ns); err != nil {
				t.Fatalf("apply: %v", err)
			}
			waitDeployment(t, cs, ns, tt.broken.name, progressDeadlineExceeded)

			var running int
			for _, p := range listPods(t, cs, ns, tt.broken.name) {
				isBroken := p.Spec.Containers[0].Image == brokenImage || p.Labels[kube.NeverReadyLabel] == "true"
				if isBroken && podReady(&p) {
					t.Errorf("pod %s of the broken version is Ready", p.Name)
				}
				if isBroken && p.Status.Phase == corev1.PodRunning {
					running++
				}
			}
			if running == 0 {
				t.Error("no pod of the broken version is Running; want Running but not Ready")
			}
		})
	}
}

func TestReadyAfterDelaysReadiness(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	cs, ns := c.Clientset(), c.NewNamespace(t)
	d := deployment{name: "slow", image: goodImage, replicas: 1, podLabels: map[string]string{slowLabel: "true"}}
	start := time.Now()
	if _, err := d.apply(t.Context(), cs, ns); err != nil {
		t.Fatalf("apply: %v", err)
	}
	waitDeployment(t, cs, ns, d.name, rolledOut)
	if elapsed := time.Since(start); elapsed < slowDelay {
		t.Errorf("deployment Available after %s, want at least the stage's %s delay", elapsed, slowDelay)
	}
}

func TestServiceAccountConfigIsLimitedToItsNamespace(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	own, other := c.NewNamespace(t), c.NewNamespace(t)
	cfg, err := c.ServiceAccountConfig(t.Context(), own, "deployer")
	if err != nil {
		t.Fatalf("ServiceAccountConfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}}
	if _, err := cs.CoreV1().ConfigMaps(own).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Errorf("create in own namespace %s: %v, want success", own, err)
	}
	d := deployment{name: "web", image: goodImage, replicas: 1}
	if _, err := d.apply(t.Context(), cs, own); err != nil {
		t.Errorf("apply a deployment in own namespace %s: %v, want success", own, err)
	}
	if _, err := cs.CoreV1().ConfigMaps(other).Create(t.Context(), cm, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("create in namespace %s: %v, want Forbidden", other, err)
	}
	if _, err := d.apply(t.Context(), cs, other); !apierrors.IsForbidden(err) {
		t.Errorf("apply a deployment in namespace %s: %v, want Forbidden", other, err)
	}
	if _, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("list namespaces (cluster scope): %v, want Forbidden", err)
	}
}

func TestNamespacesIsolateTests(t *testing.T) {
	t.Parallel()
	c := kube.Shared(t)
	cs := c.Clientset()
	var names []string
	for i := range 2 {
		t.Run(fmt.Sprint("test", i), func(t *testing.T) {
			ns := c.NewNamespace(t)
			names = append(names, ns)
			if !strings.HasPrefix(ns, fmt.Sprintf("testnamespacesisolatetests-test%d-", i)) {
				t.Errorf("namespace %q is not named after the test", ns)
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "same-name"}, Data: map[string]string{"owner": ns}}
			if _, err := cs.CoreV1().ConfigMaps(ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			got, err := cs.CoreV1().ConfigMaps(ns).Get(t.Context(), "same-name", metav1.GetOptions{})
			if err != nil || got.Data["owner"] != ns {
				t.Fatalf("get own config map: %v, data %v", err, got.Data)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("namespaces %v, want two distinct ones", names)
	}
	for _, ns := range names { // Each subtest's cleanup has run by now.
		got, err := cs.CoreV1().Namespaces().Get(t.Context(), ns, metav1.GetOptions{})
		if err == nil && got.DeletionTimestamp == nil {
			t.Errorf("namespace %s outlived its test", ns)
		} else if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("get namespace %s: %v", ns, err)
		}
	}
}

func TestStartWithoutBinariesFailsWithInstructions(t *testing.T) {
	t.Parallel()
	_, err := kube.Start(t.Context(), kube.Options{BinDir: t.TempDir()})
	if !errors.Is(err, kube.ErrMissingBinaries) {
		t.Fatalf("Start with an empty bin dir: %v, want ErrMissingBinaries", err)
	}
	if !strings.Contains(err.Error(), "internal/testenv/cluster/build.sh") {
		t.Errorf("error %q does not say how to build the binaries", err)
	}
}
