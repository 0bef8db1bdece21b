using ConvKit.Backends;

namespace ConvKit.Autograd;

/// <summary>Reverse-mode differentiation: walk the graph in reverse topological order, accumulating gradients.</summary>
static class Engine
{
    public static void Backward(Tensor root, Tensor gradient, bool retainGraph)
    {
        using var _ = GradMode.Disable();
        if (root.GradFn is not { } rootNode)
        {
            root.AccumulateGrad(gradient, exclusive: false);
            return;
        }
        // The vertices are nodes and the leaves that need a gradient.
        var order = ReverseTopologicalOrder(rootNode);
        // Every node is checked before any runs, so a refused walk leaves every Grad as it was.
        foreach (var vertex in order) (vertex as Node)?.CheckUsable();
        var pending = new Dictionary<object, Tensor>(ReferenceEqualityComparer.Instance) { [rootNode] = gradient };
        // Storages already owned elsewhere (the caller's gradient, an earlier leaf's Grad): a leaf that would
        // receive one of these gets a copy, any other gradient is handed over without copying.
        var owned = new HashSet<Storage>(ReferenceEqualityComparer.Instance) { gradient.Storage };
        for (int position = 0; position < order.Count; position++)
        {
            var vertex = order[position];
            // The walk lets go of each node it has passed: an activation whose readers have run is then held by
            // nobody, and its storage can be reclaimed while the rest of the walk allocates gradients.
            order[position] = null!;
            bool reached = pending.Remove(vertex, out var grad);
            if (vertex is Tensor leaf)
            {
                if (reached) leaf.AccumulateGrad(grad!, owned.Add(grad!.Storage));
                continue;
            }
            var node = (Node)vertex;
            if (reached)
            {
                var inputGrads = node.Backward(grad!);
                var edges = node.Edges;
                for (int i = 0; i < edges.Length; i++)
                {
                    if (edges[i].Target is not { } target || inputGrads[i] is not { } inputGrad) continue;
                    if (!inputGrad.HasShape(edges[i].Dims))
                        throw new InvalidOperationException(
                            $"{node.Op} backward produced a gradient of shape {inputGrad.ShapeString} for an input of shape {Shapes.Format(edges[i].Dims)}.");
                    pending[target] = pending.TryGetValue(target, out var sum) ? sum + inputGrad : inputGrad;
                }
            }
            // Freed as soon as it has run: its saved tensors can go while the rest of the walk goes on (reclaimed as
            // the walk's gradients are allocated: see CollectionPacer).
            if (!retainGraph) node.Free();
        }
    }

    /// <summary>Every node reachable from root, and every leaf that needs a gradient, each after all nodes that use it.</summary>
    static List<object> ReverseTopologicalOrder(Node root)
    {
        // Iterative depth-first search: a chain of many thousand ops must not overflow the stack.
        var order = new List<object>();
        var visited = new HashSet<object>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<(object Vertex, int NextInput)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (vertex, next) = stack.Pop();
            var edges = vertex is Node node ? node.Edges : [];
            if (next < edges.Length)
            {
                stack.Push((vertex, next + 1));
                if (edges[next].Target is { } target && visited.Add(target)) stack.Push((target, 0));
            }
            else order.Add(vertex);
        }
        order.Reverse();
        return order;
    }
}
