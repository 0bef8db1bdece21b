using ConvKit.Optim;

namespace ConvKit.Bench;

/// <summary>
/// One optimiser step (SGD with momentum, Adam, AdamW) over a million float32 parameters, held either as one
/// tensor or as 100 tensors of 10,000 (per-tensor overhead, as in a ResNet's many layers), against PyTorch 1.13's
/// default (single-tensor) implementations in the same run.
/// </summary>
static class OptimBench
{
    const int TorchThreads = 2;
    static readonly (string Optimizer, int Tensors, int Size)[] Cases =
    [
        ("sgd", 1, 1_000_000), ("adam", 1, 1_000_000), ("adamw", 1, 1_000_000),
        ("sgd", 100, 10_000), ("adam", 100, 10_000), ("adamw", 100, 10_000),
    ];

    static string Key((string Optimizer, int Tensors, int Size) c) => $"{c.Optimizer}/{c.Tensors}x{c.Size}";

    public static void Run()
    {
        var ours = Cases.Select(c =>
        {
            var parameters = Enumerable.Range(0, c.Tensors).Select(i => Tensor.Randn([c.Size], seed: i).RequireGrad()).ToArray();
            foreach (var p in parameters) p.Grad = Tensor.Randn([c.Size], seed: 1000 + p.Numel);
            Optimizer optimizer = c.Optimizer switch
            {
                "sgd" => new SGD(parameters, lr: 0.01, momentum: 0.9),
                "adam" => new Adam(parameters, lr: 1e-3),
                _ => new AdamW(parameters, lr: 1e-3, weightDecay: 1e-2),
            };
            // Enough warm-up for tiered compilation to replace the first, unoptimised code.
            return Machine.MedianSeconds(optimizer.Step, warmup: 300, repeats: 51);
        }).ToArray();
        var torch = Machine.RunPython("optim_torch.py", $"{TorchThreads} " + string.Join(' ', Cases.Select(c => $"{Key(c)}:{c.Tensors}:{c.Size}")))
            .Select(line => line.Split(' ')).ToDictionary(f => f[0], f => double.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));

        Console.WriteLine();
        Console.WriteLine("## Optimiser step over 1M float32 parameters");
        Console.WriteLine($"ConvKit threads: {ConvKit.Backends.Cpu.Threading.NumThreads}; PyTorch threads: torch.set_num_threads({TorchThreads})");
        Console.WriteLine();
        Console.WriteLine("| optimiser | layout | ConvKit ms/step | PyTorch 1.13 ms/step | PyTorch / ConvKit |");
        Console.WriteLine("|---|---|---|---|---|");
        for (int i = 0; i < Cases.Length; i++)
        {
            double peer = torch[Key(Cases[i])];
            Console.WriteLine($"| {Cases[i].Optimizer} | {Cases[i].Tensors} × {Cases[i].Size:N0} | {ours[i] * 1e3:F3} | {peer * 1e3:F3} | {peer / ours[i]:F2}× |");
        }
    }
}
