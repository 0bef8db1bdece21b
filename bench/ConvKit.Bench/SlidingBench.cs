using System.Globalization;
using ConvKit.Backends.Cpu;
using ConvKit.Data;
using ConvKit.Ops;
using ConvKit.Optim;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;

namespace ConvKit.Bench;

/// <summary>
/// Sliding windows, naive against convolutional: <see cref="WindowClassifier.Small"/> (28×28 windows, stride 4 in its
/// convolutional form) trained briefly on Fashion-MNIST's 28×28 pictures, then run over 128×128 detection scenes
/// (<see cref="FashionScenesOptions.Detection"/>'s test scenes) both ways — every window cropped and classified
/// (<see cref="SlidingWindows.Naive"/>, batches of 256 windows) and one pass of the same weights
/// (<see cref="SlidingWindows.Convolutional"/>) — checking that the two give the same scores window by window (the
/// largest difference is printed; it must be ≤ 1e-5). The peer (peers/sliding_torch.py) times the same two ways in
/// PyTorch 1.13 with the same network and window batch. Median of 5 runs after a warm-up, 2 threads in both.
/// Usage: <c>sliding [PICTURES=4] [TRAIN=6000]</c>.
/// </summary>
static class SlidingBench
{
    const int Threads = 2, Canvas = 128, WindowBatch = 256;

    public static void Run(string[] arguments)
    {
        int pictures = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 4;
        int trainCount = arguments.Length > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : 6000;
        if (!Directory.Exists(IdxDatasets.FashionMnistDirectory))
        {
            Console.WriteLine($"\n## Sliding windows: skipped, Fashion-MNIST is not in {IdxDatasets.FashionMnistDirectory} (apt-get install dataset-fashion-mnist)");
            return;
        }
        Threading.NumThreads = Threads;
        WindowClassifier classifier;
        using (Generator.Use(new Generator(7))) classifier = WindowClassifier.Small();
        double accuracy = Train(classifier, trainCount);

        var test = IdxDatasets.FashionMnist(train: false);
        var scenes = Enumerable.Range(0, pictures).Select(i => FashionScenes.Make(test, FashionScenesOptions.Detection, train: false, i).Picture).ToArray();
        var batch = Tensor.Stack(scenes).Reshape(pictures, 1, Canvas, Canvas);
        var (rows, columns) = classifier.Positions(Canvas, Canvas);

        var naive = SlidingWindows.Naive(classifier, batch, WindowBatch).ToArray();
        var convolutional = SlidingWindows.Convolutional(classifier, batch).ToArray();
        double largest = naive.Zip(convolutional, (a, b) => Math.Abs((double)a - b)).Max();
        double naiveSeconds = Machine.MedianSeconds(() => SlidingWindows.Naive(classifier, batch, WindowBatch), 1, 5);
        double convolutionalSeconds = Machine.MedianSeconds(() => SlidingWindows.Convolutional(classifier, batch), 1, 5);

        var peer = Machine.RunPython("sliding_torch.py", $"{Threads} {pictures} {Canvas} {WindowBatch}");
        double Value(string key) => double.Parse(peer.Single(l => l.StartsWith(key + ":"))[(key.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
        double torchNaive = Value("naive_seconds"), torchConvolutional = Value("convolutional_seconds");

        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        Console.WriteLine();
        Console.WriteLine($"## Sliding windows: WindowClassifier.Small (28×28 windows, stride 4, {classifier.ParameterCount():N0} parameters, " +
            $"test accuracy {accuracy:P2} on 28×28 Fashion-MNIST after one pass over {trainCount:N0} pictures) over {pictures} scenes of {Canvas}×{Canvas}: " +
            $"{rows}×{columns} = {rows * columns} windows each, {pictures * rows * columns:N0} in all; {Threads} threads, median of 5");
        Console.WriteLine($"Largest |naive − convolutional| score: {largest:E2} ({(largest <= 1e-5 ? "equal within 1e-5" : "NOT EQUAL")}); {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, /proc/loadavg: {load}");
        Console.WriteLine();
        Console.WriteLine("| engine | naive (s) | convolutional (s) | speed-up |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| ConvKit | {naiveSeconds:F3} | {convolutionalSeconds:F3} | {naiveSeconds / convolutionalSeconds:F1}× |");
        Console.WriteLine($"| PyTorch 1.13 | {torchNaive:F3} | {torchConvolutional:F3} | {torchNaive / torchConvolutional:F1}× |");
        Console.WriteLine($"| ratio (PyTorch / ConvKit) | {torchNaive / naiveSeconds:F2}× | {torchConvolutional / convolutionalSeconds:F2}× | |");
    }

    /// <summary>One pass of Adam (1e-3, batch 64) over the first <paramref name="count"/> training pictures; the test accuracy on 2,000 test pictures.</summary>
    static double Train(WindowClassifier classifier, int count)
    {
        var loader = new DataLoader(IdxDatasets.FashionMnist(train: true).Take(count), 64, shuffle: true, seed: 7);
        var optimizer = new Adam(classifier.Parameters().ToList(), 1e-3);
        using (Generator.Use(new Generator(8)))
            foreach (var batch in loader.Batches(0))
            {
                optimizer.ZeroGrad();
                F.CrossEntropy(classifier.Forward(batch.Images), batch.Labels).Backward();
                optimizer.Step();
            }
        classifier.Eval();
        double correct = 0;
        using (Tensor.NoGrad())
            foreach (var batch in new DataLoader(IdxDatasets.FashionMnist(train: false).Take(2000), 500))
                correct += classifier.Forward(batch.Images).ArgMax(1).Eq(batch.Labels).Sum().Item();
        return correct / 2000;
    }
}
