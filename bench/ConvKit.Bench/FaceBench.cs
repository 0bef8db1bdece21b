using System.Diagnostics;
using ConvKit.Onnx;
using ConvKit.Vision.Faces;
using ConvKit.Vision.Imaging;
using ConvKit.Vision.Pretrained;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ConvKit.Bench;

/// <summary>
/// The pretrained face networks (npm @vladmandic/face-api 1.7.15, from the pretrained-weights cache) at batch 1: the
/// tiny face detector on a 416×416 input, the landmark network on one 112×112 face and the face encoder on one 150×150 face, in ConvKit (evaluation mode, no
/// gradients) against ONNX Runtime (default graph optimisations, all cores) running the same networks exported by
/// ConvKit's <see cref="OnnxExporter"/>. The engines alternate for several rounds in the same run; medians over all
/// timed inferences. Also ConvKit's whole pipeline on a sample photo (decode excluded): detection with its
/// preprocessing and decoding, and the encoding of each face found.
/// </summary>
static class FaceBench
{
    const int Rounds = 8, PerRound = 5, Warmup = 5;

    public static void Run()
    {
        string? package = new PretrainedStore().FindCached(PretrainedPackage.FaceApi);
        if (package == null)
        {
            Console.WriteLine($"\n## Faces: skipped — {PretrainedPackage.FaceApi} is not in the pretrained-weights cache (run './convkit faces fetch').");
            return;
        }
        var models = FaceModels.FromPackage(package);
        Console.WriteLine();
        Console.WriteLine($"## Faces: pretrained detector and encoder, batch 1 ({Rounds} alternating rounds × {PerRound} inferences per engine)");
        Console.WriteLine($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}: IntraOpNumThreads = {Environment.ProcessorCount}; " +
            $"ConvKit threads: {Backends.Cpu.Threading.NumThreads}; load average {Machine.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine("| network | input | ConvKit median ms | ONNX Runtime median ms | ConvKit / ONNX Runtime | max abs difference / output scale |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Compare("tiny face detector", models.Detector.Network, [1, 3, 416, 416]);
        Compare("landmarks (per face)", models.Landmarker.Network, [1, 3, 112, 112]);
        Compare("face encoder (per face)", models.Encoder.Network, [1, 3, 150, 150]);

        var photo = ImageFiles.Load(Path.Combine(package, "demo", "sample6.jpg"));
        var faces = models.Detector.Detect(photo);
        var detect = Time(() => models.Detector.Detect(photo));
        var encode = Time(() => models.Encode(photo, faces));
        Console.WriteLine();
        Console.WriteLine($"ConvKit pipeline on demo/sample6.jpg ({photo.Shape[2]}×{photo.Shape[1]}, {faces.Count} faces): detection with " +
            $"padding, resize and decoding {Median(detect):F1} ms; encoding the {faces.Count} faces (landmarks, aligned crops, each network one batch) " +
            $"{Median(encode):F1} ms, {Median(encode) / faces.Count:F1} ms per face.");
    }

    static void Compare(string name, NN.Module network, int[] shape)
    {
        var x = (Tensor.Rand(shape, 7) - 0.45f) * 2f;
        byte[] onnx = OnnxExporter.Export(network, shape);
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount };
        using var session = new InferenceSession(onnx, options);
        var feeds = new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray(), shape)) };
        var engines = new Action[] { () => { using (Tensor.NoGrad()) network.Forward(x); }, () => { using var _ = session.Run(feeds); } };
        var times = engines.Select(_ => new List<double>()).ToArray();
        foreach (var engine in engines)
            for (int i = 0; i < Warmup; i++) engine();
        for (int round = 0; round < Rounds; round++)
            for (int e = 0; e < engines.Length; e++)
            {
                Thread.Sleep(200); // let ONNX Runtime's spinning workers park before the other engine runs
                for (int i = 0; i < PerRound; i++)
                {
                    var watch = Stopwatch.StartNew();
                    engines[e]();
                    times[e].Add(watch.Elapsed.TotalMilliseconds);
                }
            }
        using var reference = session.Run(feeds);
        var expected = reference.First().AsTensor<float>().ToArray();
        float[] actual;
        using (Tensor.NoGrad()) actual = network.Forward(x).ToArray();
        double scale = expected.Max(v => Math.Abs((double)v));
        double difference = actual.Zip(expected, (a, b) => Math.Abs(a - (double)b)).Max() / scale;
        double convKit = Median(times[0]), ort = Median(times[1]);
        Console.WriteLine($"| {name} | {string.Join("×", shape)} | {convKit:F2} | {ort:F2} | {convKit / ort:F2} | {difference:G2} |");
    }


    static List<double> Time(Action action)
    {
        for (int i = 0; i < Warmup; i++) action();
        var times = new List<double>();
        for (int i = 0; i < Rounds * PerRound / 2; i++)
        {
            var watch = Stopwatch.StartNew();
            action();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
