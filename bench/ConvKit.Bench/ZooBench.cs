using System.Globalization;
using ConvKit.Data;
using ConvKit.Data.Transforms;
using ConvKit.Training;
using ConvKit.Vision.Models;

namespace ConvKit.Bench;

/// <summary>
/// A zoo model trained end to end: resnet-mnist (ResNet with basic blocks [2, 2, 2, 2], widths 16–128, a 3×3
/// stride-1 stem, no max-pool) on Fashion-MNIST for three epochs with ConvKit's Trainer — Adam at 1e-3 with
/// cosine annealing over the epochs, batches of 128 reshuffled every epoch, inputs standardised — and the test
/// accuracy after each epoch. The same network and recipe run in PyTorch in the same run (peers/zoo_torch.py,
/// twin in peers/zoo_models.py). Slow: several minutes per epoch and framework on two cores.
/// </summary>
static class ZooBench
{
    const int Epochs = 3, Batch = 128, TorchThreads = 2;
    const double LearningRate = 1e-3;
    // Fashion-MNIST's pixel mean and std, used by both engines.
    const float Mean = 0.2860f, Std = 0.3530f;

    public static void Run()
    {
        string data = IdxDatasets.FashionMnistDirectory;
        if (!Directory.Exists(data))
        {
            Console.WriteLine($"\n## ResNet on Fashion-MNIST: skipped, Fashion-MNIST is not in {data} (apt-get install dataset-fashion-mnist)");
            return;
        }
        NN.Module model;
        using (Generator.Use(new Generator(0))) model = ModelZoo.Create("resnet-mnist");
        var normalize = new Normalize([Mean], [Std]);
        var trainer = new Trainer(model, new TrainingOptions
        {
            Epochs = Epochs, BatchSize = Batch, Optimizer = OptimizerKind.Adam, LearningRate = LearningRate, Schedule = ScheduleKind.Cosine,
        }, normalize, normalize);
        trainer.EpochCompleted += m => Console.WriteLine($"ConvKit epoch {m.Epoch}: {m.Seconds:F1} s, train loss {m.TrainLoss:F4}, test accuracy {m.ValidationAccuracy:P2}");
        var ours = trainer.Fit(IdxDatasets.FashionMnist(train: true), IdxDatasets.FashionMnist(train: false)).History;

        var torch = Machine.RunPython("zoo_torch.py", $"\"{data}\" {Epochs} {Batch} {LearningRate.ToString(CultureInfo.InvariantCulture)} {TorchThreads}")
            .Where(l => l.StartsWith("epoch ")).Select(l => l.Split(' ')).Select(p => (Seconds: Number(p[2]), Loss: Number(p[3]), Accuracy: Number(p[4]))).ToList();

        Console.WriteLine();
        Console.WriteLine($"## ResNet on Fashion-MNIST: resnet-mnist ({model.ParameterCount():N0} parameters), {Epochs} epochs, batch {Batch}, Adam {LearningRate} with cosine annealing per epoch");
        Console.WriteLine($"PyTorch threads: torch.set_num_threads({TorchThreads}); ConvKit threads: {Backends.Cpu.Threading.NumThreads}");
        Console.WriteLine();
        Console.WriteLine("| epoch | ConvKit s/epoch | ConvKit train loss | ConvKit test acc | PyTorch s/epoch | PyTorch train loss | PyTorch test acc |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (int e = 0; e < Epochs; e++)
            Console.WriteLine($"| {e + 1} | {ours[e].Seconds:F1} | {ours[e].TrainLoss:F4} | {ours[e].ValidationAccuracy:P2} | {torch[e].Seconds:F1} | {torch[e].Loss:F4} | {torch[e].Accuracy:P2} |");
        // The best epoch is the least disturbed by other load on a shared machine.
        double ourMean = ours.Average(m => m.Seconds), torchMean = torch.Average(r => r.Seconds);
        double ourBest = ours.Min(m => m.Seconds), torchBest = torch.Min(r => r.Seconds);
        Console.WriteLine($"| mean | {ourMean:F1} | | | {torchMean:F1} | | |");
        Console.WriteLine($"| best | {ourBest:F1} | | | {torchBest:F1} | | |");
        Console.WriteLine($"| ratio of best (PyTorch / ConvKit) | {torchBest / ourBest:F2}× | | | | | |");
    }

    static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
