using ConvKit.Onnx.Proto;

namespace ConvKit.Onnx.Import;

/// <summary>
/// Folds BatchNormalization nodes into the Conv that feeds them (see <see cref="OnnxImportOptions.FoldBatchNorm"/>):
/// the convolution's weight and bias absorb the normalisation and the batch-norm node disappears. A pair is folded only
/// when everything involved is a float initialiser used by nothing else and the convolution's output feeds only the
/// batch norm.
/// </summary>
static class BatchNormFolding
{
    public static List<NodeProto> Fold(List<NodeProto> nodes, Dictionary<string, OnnxValue> initializers, ISet<string> graphOutputs)
    {
        var uses = new Dictionary<string, int>();
        foreach (var name in nodes.SelectMany(n => n.Input).Concat(graphOutputs)) uses[name] = uses.GetValueOrDefault(name) + 1;
        var producer = new Dictionary<string, NodeProto>();
        foreach (var node in nodes)
            foreach (var output in node.Output) producer[output] = node;

        var replaced = new Dictionary<NodeProto, NodeProto?>();
        foreach (var bn in nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx"))
        {
            if (bn.Input.Count < 5 || bn.Output.Skip(1).Any(o => o.Length > 0) || bn.Attribute.Any(a => a.Name == "training_mode" && a.I != 0)) continue;
            if (!producer.TryGetValue(bn.Input[0], out var conv) || conv.OpType != "Conv" || replaced.ContainsKey(conv)) continue;
            if (uses.GetValueOrDefault(bn.Input[0]) != 1 || conv.Input.Count < 2) continue;
            var statistics = bn.Input.Skip(1).Take(4).Select(name => Floats(initializers, name)).ToArray();
            var weight = Floats(initializers, conv.Input[1]);
            string? biasName = conv.Input.Count > 2 && conv.Input[2].Length > 0 ? conv.Input[2] : null;
            var bias = biasName != null ? Floats(initializers, biasName) : null;
            if (statistics.Any(s => s == null) || weight == null || (biasName != null && bias == null) || uses[conv.Input[1]] != 1
                || (biasName != null && uses[biasName] != 1)) continue;

            float epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var (gamma, beta, mean, variance) = (statistics[0]!.ToArray(), statistics[1]!.ToArray(), statistics[2]!.ToArray(), statistics[3]!.ToArray());
            int channels = weight.Shape[0], perChannel = weight.Numel / channels;
            if (gamma.Length != channels || beta.Length != channels || mean.Length != channels || variance.Length != channels) continue;
            var w = weight.ToArray();
            var b = new float[channels];
            var oldBias = bias?.ToArray();
            for (int c = 0; c < channels; c++)
            {
                double scale = gamma[c] / Math.Sqrt(variance[c] + (double)epsilon);
                for (int i = 0; i < perChannel; i++) w[c * perChannel + i] = (float)(w[c * perChannel + i] * scale);
                b[c] = (float)(((oldBias?[c] ?? 0) - mean[c]) * scale + beta[c]);
            }
            initializers[conv.Input[1]] = OnnxValue.Of(Tensor.FromArray(w, [.. weight.Shape]));
            biasName ??= uses[bn.Input[2]] == 1 ? bn.Input[2] : Unique(conv.Input[1] + "_bias", initializers);
            initializers[biasName] = OnnxValue.Of(Tensor.FromArray(b, channels));

            var folded = conv.Clone();
            while (folded.Input.Count > 2) folded.Input.RemoveAt(2);
            folded.Input.Add(biasName);
            folded.Output[0] = bn.Output[0];
            replaced[conv] = folded;
            replaced[bn] = null;
        }
        var result = nodes.Select(n => replaced.TryGetValue(n, out var r) ? r : n).Where(n => n != null).Select(n => n!).ToList();
        // Drop initialisers nothing reads any more (the folded batch norms' statistics).
        var read = result.SelectMany(n => n.Input).Concat(graphOutputs).ToHashSet();
        foreach (var name in initializers.Keys.Where(k => !read.Contains(k)).ToList()) initializers.Remove(name);
        return result;
    }

    static Tensor? Floats(Dictionary<string, OnnxValue> initializers, string name) =>
        initializers.TryGetValue(name, out var value) ? value.Float : null;

    static string Unique(string name, Dictionary<string, OnnxValue> taken)
    {
        string candidate = name;
        for (int i = 2; taken.ContainsKey(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
