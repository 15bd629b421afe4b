package main

// TEST DOUBLE behaviour: the stand-in for the kubelet (and the deployment/statefulset status the
// controllers would compute from running pods) for the workloads the helm-controller double
// installed. The double has no kubelet, so nothing rolls out; roles/argocd_bootstrap waits for the
// rollout of the charts it installs. So the double marks those workloads rolled out — and says so
// on each of them with the annotation kubeletAnnotation. Workloads without the annotation
// (anything else in the cluster, e.g. what the ArgoCD double applies) are never marked.

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

const (
	// On every workload whose rollout status the double sets.
	kubeletAnnotation = "shai.vectorweight.com/test-double"
	kubeletNote       = "kubelet: rollout status set by the k3s test double; no pod ran"
	kubeletManager    = "kubelet-test-double"
)

type kubeletDouble struct {
	cs kubernetes.Interface
}

// claimWorkloads annotates the Deployments and StatefulSets of a release manifest, so that the
// status loop below reports them rolled out.
func (k *kubeletDouble) claimWorkloads(ctx context.Context, manifest, namespace string) error {
	docs, err := decodeDocs([]byte(manifest))
	if err != nil {
		return fmt.Errorf("release manifest: %w", err)
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations": map[string]any{kubeletAnnotation: kubeletNote},
	}})
	opts := metav1.PatchOptions{FieldManager: kubeletManager}
	for _, d := range docs {
		if d.GetAPIVersion() != "apps/v1" {
			continue
		}
		ns := d.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		switch d.GetKind() {
		case "Deployment":
			_, err = k.cs.AppsV1().Deployments(ns).Patch(ctx, d.GetName(), types.MergePatchType, patch, opts)
		case "StatefulSet":
			_, err = k.cs.AppsV1().StatefulSets(ns).Patch(ctx, d.GetName(), types.MergePatchType, patch, opts)
		default:
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", d.GetKind(), ns, d.GetName(), err)
		}
	}
	return nil
}

// markWorkloadsReady: every replica of an annotated workload is reported ready for its current
// generation (again after every change, e.g. `kubectl rollout restart`).
func (k *kubeletDouble) markWorkloadsReady(ctx context.Context) {
	if deps, err := k.cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err == nil {
		for i := range deps.Items {
			if d := &deps.Items[i]; d.Annotations[kubeletAnnotation] != "" {
				k.markDeployment(ctx, d)
			}
		}
	}
	if stss, err := k.cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{}); err == nil {
		for i := range stss.Items {
			if s := &stss.Items[i]; s.Annotations[kubeletAnnotation] != "" {
				k.markStatefulSet(ctx, s)
			}
		}
	}
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func (k *kubeletDouble) markDeployment(ctx context.Context, d *appsv1.Deployment) {
	want := replicasOf(d.Spec.Replicas)
	st := d.Status
	if st.ObservedGeneration == d.Generation && st.Replicas == want && st.UpdatedReplicas == want &&
		st.ReadyReplicas == want && st.AvailableReplicas == want {
		return
	}
	now := metav1.Now()
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation, Replicas: want, UpdatedReplicas: want, ReadyReplicas: want,
		AvailableReplicas: want,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "TestDouble",
				Message: kubeletNote, LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable",
				Message: kubeletNote, LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	if _, err := k.cs.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{FieldManager: kubeletManager}); err != nil &&
		!apierrors.IsConflict(err) {
		log.Printf("kubelet test double: status of deployment %s/%s: %v", d.Namespace, d.Name, err)
	}
}

func (k *kubeletDouble) markStatefulSet(ctx context.Context, s *appsv1.StatefulSet) {
	want := replicasOf(s.Spec.Replicas)
	rev := fmt.Sprintf("%s-gen%d", s.Name, s.Generation)
	st := s.Status
	if st.ObservedGeneration == s.Generation && st.ReadyReplicas == want && st.CurrentRevision == rev &&
		st.UpdateRevision == rev {
		return
	}
	s.Status = appsv1.StatefulSetStatus{
		ObservedGeneration: s.Generation, Replicas: want, ReadyReplicas: want, CurrentReplicas: want,
		UpdatedReplicas: want, AvailableReplicas: want, CurrentRevision: rev, UpdateRevision: rev,
	}
	if _, err := k.cs.AppsV1().StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{FieldManager: kubeletManager}); err != nil &&
		!apierrors.IsConflict(err) {
		log.Printf("kubelet test double: status of statefulset %s/%s: %v", s.Namespace, s.Name, err)
	}
}
