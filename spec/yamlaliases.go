package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// maxAliasNodes bounds the YAML nodes that aliases may add to a file
// kustomize reads. Kustomize copies every alias's anchor in full before
// building (kyaml's DeAnchor) with no bound of its own, so nine levels of
// ten aliases each, a few hundred bytes, would make 10^9 nodes.
const maxAliasNodes = 100_000

// aliasProblem returns why the YAML in data is refused, or "": when its
// aliases, expanded, would add more than maxAliasNodes nodes. Text that
// does not parse is left to kustomize, which reports it.
func aliasProblem(data []byte) string {
	if !bytes.ContainsRune(data, '*') {
		return ""
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	memo := map[*yaml.Node]int{}
	added := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			return ""
		}
		if added += aliasNodes(&doc, memo); added > maxAliasNodes {
			return fmt.Sprintf("YAML aliases in this file would expand to more than %d nodes; write the repeated content out, or use fewer aliases of aliases", maxAliasNodes)
		}
	}
}

// aliasNodes returns the nodes that aliases under n add when expanded, at
// most just above maxAliasNodes; memo holds each node's expanded size.
func aliasNodes(n *yaml.Node, memo map[*yaml.Node]int) int {
	added := 0
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode && c.Alias != nil {
			added += expandedSize(c.Alias, memo, 0)
		} else {
			added += aliasNodes(c, memo)
		}
		if added > maxAliasNodes {
			break
		}
	}
	return added
}

// expandedSize returns the nodes n stands for once its aliases are
// expanded, at most just above maxAliasNodes.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, depth int) int {
	if size, ok := memo[n]; ok {
		return size
	}
	if depth > 1000 { // an alias of its own ancestor: yaml refuses it
		return 1
	}
	size := 1
	for _, c := range n.Content {
		target := c
		if c.Kind == yaml.AliasNode && c.Alias != nil {
			target = c.Alias
		}
		if size += expandedSize(target, memo, depth+1); size > maxAliasNodes {
			size = maxAliasNodes + 1
			break
		}
	}
	memo[n] = size
	return size
}
