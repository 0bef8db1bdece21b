using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Optim.Schedules;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>
/// Training a zoo model end to end: resnet-mnist (ResNet, basic blocks [2, 2, 2, 2], widths 16–128, 3×3 stride-1
/// stem) on Fashion-MNIST for three epochs — Adam, learning rate 1e-3 annealed by a cosine over all steps, batches of
/// 128 reshuffled every epoch, inputs standardised — then test accuracy after each epoch. The same network and
/// recipe run in PyTorch in the same run (peers/zoo_torch.py, twin in peers/zoo_models.py). Slow: about ten minutes
/// per framework on two cores.
/// </summary>
static class ZooBench
{
    const string DataDirectory = "/usr/share/datasets/fashion-mnist";
    const int Epochs = 3, Batch = 128, TorchThreads = 2;
    const double LearningRate = 1e-3;
    const float Mean = 0.2860f, Std = 0.3530f;

    public static void Run()
    {
        if (!File.Exists(Path.Combine(DataDirectory, "train-images-idx3-ubyte.gz")))
        {
            Console.WriteLine($"\n## ResNet on Fashion-MNIST: skipped, no data in {DataDirectory} (Debian package dataset-fashion-mnist)");
            return;
        }
        var train = (Images: Images("train-images-idx3-ubyte.gz"), Labels: Labels("train-labels-idx1-ubyte.gz"));
        var test = (Images: Images("t10k-images-idx3-ubyte.gz"), Labels: Labels("t10k-labels-idx1-ubyte.gz"));

        var ours = Train(train, test);
        var torch = Machine.RunPython("zoo_torch.py", $"{DataDirectory} {Epochs} {Batch} {LearningRate.ToString(CultureInfo.InvariantCulture)} {TorchThreads}")
            .Where(l => l.StartsWith("epoch ")).Select(l => l.Split(' ')).Select(p => (Seconds: Number(p[2]), Loss: Number(p[3]), Accuracy: Number(p[4]))).ToList();

        Console.WriteLine();
        Console.WriteLine($"## ResNet on Fashion-MNIST: resnet-mnist ({ModelZoo.Create("resnet-mnist").ParameterCount():N0} parameters), {Epochs} epochs, batch {Batch}, Adam {LearningRate} with cosine annealing");
        Console.WriteLine($"PyTorch threads: torch.set_num_threads({TorchThreads}); ConvKit threads: {Backends.Cpu.Threading.NumThreads}");
        Console.WriteLine();
        Console.WriteLine("| epoch | ConvKit s/epoch | ConvKit train loss | ConvKit test acc | PyTorch s/epoch | PyTorch train loss | PyTorch test acc |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (int e = 0; e < Epochs; e++)
            Console.WriteLine($"| {e + 1} | {ours[e].Seconds:F1} | {ours[e].Loss:F4} | {ours[e].Accuracy:P2} | {torch[e].Seconds:F1} | {torch[e].Loss:F4} | {torch[e].Accuracy:P2} |");
        double ourMean = ours.Average(r => r.Seconds), torchMean = torch.Average(r => r.Seconds);
        Console.WriteLine($"| mean | {ourMean:F1} | | | {torchMean:F1} | | |");
        Console.WriteLine($"| ratio (PyTorch / ConvKit) | {torchMean / ourMean:F2}× | | | | | |");
    }

    static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    static List<(double Seconds, double Loss, double Accuracy)> Train((float[] Images, float[] Labels) train, (float[] Images, float[] Labels) test)
    {
        var model = ModelZoo.Create("resnet-mnist");
        int count = train.Labels.Length, stepsPerEpoch = (count + Batch - 1) / Batch;
        var optimizer = new Adam(model.Parameters(), lr: LearningRate);
        var schedule = new CosineAnnealingLR(optimizer, tMax: Epochs * stepsPerEpoch);
        var random = new Random(0);
        var results = new List<(double, double, double)>();
        for (int epoch = 1; epoch <= Epochs; epoch++)
        {
            model.Train();
            var order = Enumerable.Range(0, count).ToArray();
            random.Shuffle(order);
            double totalLoss = 0;
            long start = Stopwatch.GetTimestamp();
            for (int first = 0; first < count; first += Batch)
            {
                var chosen = order.AsSpan(first, Math.Min(Batch, count - first));
                var (x, y) = Gather(train, chosen);
                optimizer.ZeroGrad();
                var loss = F.CrossEntropy(model.Forward(x), y);
                loss.Backward();
                optimizer.Step();
                schedule.Step();
                totalLoss += loss.Item() * chosen.Length;
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            double accuracy = Accuracy(model, test);
            Console.WriteLine($"ConvKit epoch {epoch}: {seconds:F1} s, train loss {totalLoss / count:F4}, test accuracy {accuracy:P2}");
            results.Add((seconds, totalLoss / count, accuracy));
        }
        return results;
    }

    static double Accuracy(Module model, (float[] Images, float[] Labels) test)
    {
        model.Eval();
        using var noGrad = Tensor.NoGrad();
        int correct = 0, count = test.Labels.Length;
        for (int first = 0; first < count; first += 1000)
        {
            var chosen = Enumerable.Range(first, Math.Min(1000, count - first)).ToArray();
            var (x, y) = Gather(test, chosen);
            var predicted = model.Forward(x).ArgMax(1).ToArray();
            var labels = y.ToArray();
            correct += predicted.Where((p, i) => p == labels[i]).Count();
        }
        return (double)correct / count;
    }

    /// <summary>The chosen images as (n, 1, 28, 28) and their labels as (n).</summary>
    static (Tensor Images, Tensor Labels) Gather((float[] Images, float[] Labels) data, ReadOnlySpan<int> chosen)
    {
        const int Pixels = 28 * 28;
        var images = new float[chosen.Length * Pixels];
        var labels = new float[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            data.Images.AsSpan(chosen[i] * Pixels, Pixels).CopyTo(images.AsSpan(i * Pixels));
            labels[i] = data.Labels[chosen[i]];
        }
        return (Tensor.FromArray(images, chosen.Length, 1, 28, 28), Tensor.FromArray(labels, chosen.Length));
    }

    // A minimal IDX reader (big-endian header: two zero bytes, type 0x08 = unsigned byte, rank, then the sizes).
    static byte[] Idx(string name, int rank)
    {
        using var stream = new GZipStream(File.OpenRead(Path.Combine(DataDirectory, name)), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var raw = memory.ToArray();
        if (raw[2] != 0x08 || raw[3] != rank) throw new InvalidDataException($"{name}: not an IDX file of unsigned bytes with {rank} axes.");
        return raw[(4 + 4 * rank)..];
    }

    static float[] Images(string name) => Idx(name, 3).Select(b => (b / 255f - Mean) / Std).ToArray();

    static float[] Labels(string name) => Idx(name, 1).Select(b => (float)b).ToArray();
}
