using System.Diagnostics;
using ConvKit.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Bench;

/// <summary>
/// The packaged ImageNet ResNet-18 (ONNX, CNTK export) at batch 1 on 224×224: ConvKit's import (as is, and with
/// batch norm folded into the convolutions), in evaluation mode without gradients, against ONNX Runtime (default
/// graph optimisations) on all cores. The engines alternate for several rounds in the same run; each round times a
/// few inferences per engine, and the table gives the medians over all timed inferences.
/// </summary>
static class OnnxBench
{
    const int Rounds = 10, PerRound = 6, Warmup = 10;

    public static void Run()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        var plain = OnnxModel.Load(path);
        var folded = OnnxModel.Load(path, new OnnxImportOptions { FoldBatchNorm = true });
        var x = Tensor.Randn([1, 3, 224, 224], seed: 1) * 60f;
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount };
        using var session = new InferenceSession(path, options);
        var feeds = new[] { NamedOnnxValue.CreateFromTensor(plain.Inputs[0].Name, new DenseTensor<float>(x.ToArray(), [1, 3, 224, 224])) };

        var engines = new (string Name, Action Infer)[]
        {
            ("ConvKit (imported)", () => { using (Tensor.NoGrad()) plain.Forward(x); }),
            ("ConvKit (BN folded)", () => { using (Tensor.NoGrad()) folded.Forward(x); }),
            ("ONNX Runtime", () => { using var _ = session.Run(feeds); }),
        };
        var times = engines.Select(_ => new List<double>()).ToArray();
        foreach (var engine in engines)
            for (int i = 0; i < Warmup; i++) engine.Infer();
        for (int round = 0; round < Rounds; round++)
            for (int e = 0; e < engines.Length; e++)
            {
                // ONNX Runtime's worker threads spin for a while after a run; a pause lets them park, so they do
                // not compete with the engine measured next.
                Thread.Sleep(200);
                for (int i = 0; i < PerRound; i++)
                {
                    var watch = Stopwatch.StartNew();
                    engines[e].Infer();
                    times[e].Add(watch.Elapsed.TotalMilliseconds);
                }
            }

        double ort = Median(times[^1]);
        Console.WriteLine();
        Console.WriteLine($"## ONNX: ResNet-18 inference, batch 1, 224×224 ({Rounds} alternating rounds × {PerRound} inferences per engine)");
        Console.WriteLine($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}: IntraOpNumThreads = {Environment.ProcessorCount}; " +
            $"ConvKit threads: {Backends.Cpu.Threading.NumThreads}");
        Console.WriteLine();
        Console.WriteLine("| engine | median ms | min ms | × ONNX Runtime | max abs difference from ONNX Runtime / output scale |");
        Console.WriteLine("|---|---|---|---|---|");
        using var reference = session.Run(feeds);
        var expected = reference.First().AsTensor<float>().ToArray();
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int e = 0; e < engines.Length; e++)
        {
            string agreement = "";
            if (e < 2)
            {
                Tensor y;
                using (Tensor.NoGrad()) y = (e == 0 ? plain : folded).Forward(x);
                agreement = $"{y.ToArray().Zip(expected, (a, b) => Math.Abs(a - (double)b)).Max() / scale:G2}";
            }
            Console.WriteLine($"| {engines[e].Name} | {Median(times[e]):F1} | {times[e].Min():F1} | {Median(times[e]) / ort:F2} | {agreement} |");
        }
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
