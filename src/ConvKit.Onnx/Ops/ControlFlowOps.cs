using ConvKit.Onnx.Import;

namespace ConvKit.Onnx.Ops;

// Control flow: If, whose branches are subgraphs compiled with the node.
static partial class Operators
{
    // If (1; 11, 13, 16, 19 widen the types): runs then_branch when the one-element condition is nonzero, else
    // else_branch; the node's outputs are the branch's outputs, whose shapes may differ between the branches.
    static OpKernel If(NodeContext node)
    {
        var thenBranch = new Subgraph(node.Graph("then_branch") ?? throw node.Invalid("the then_branch attribute is required."), node.Opset, node.Unsupported);
        var elseBranch = new Subgraph(node.Graph("else_branch") ?? throw node.Invalid("the else_branch attribute is required."), node.Opset, node.Unsupported);
        var captured = Subgraph.CapturedNames(node.Node).ToArray();
        return (inputs, state) =>
        {
            var condition = Values.Numbers(Input(node, inputs, 0));
            if (condition.Length != 1) throw node.Invalid($"the condition should hold one value, it holds {condition.Length}.");
            var outer = new Dictionary<string, OnnxValue>();
            for (int i = 0; i < captured.Length; i++)
                if (inputs[node.InputCount + i] is { } value) outer[captured[i]] = value;
            var results = (condition[0] != 0 ? thenBranch : elseBranch).Run(outer, state);
            if (results.Length != node.OutputCount)
                throw node.Invalid($"the {(condition[0] != 0 ? "then" : "else")} branch has {results.Length} outputs, the node {node.OutputCount}.");
            return results;
        };
    }
}
