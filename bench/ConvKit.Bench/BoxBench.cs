using System.Globalization;
using ConvKit.Vision.Detection;

namespace ConvKit.Bench;

/// <summary>
/// Box operations against torchvision 0.14 (<c>box_iou</c>, <c>nms</c>, <c>batched_nms</c>) on the same boxes in the
/// same run: pairwise IoU of 1,000 × 1,000 boxes, and NMS and per-class NMS (10 classes) of 10,000 boxes — spread over
/// a 1,000 × 1,000 canvas, or crowded as a detector's raw output (100 objects, 100 jittered boxes each). The boxes are
/// written to a file the peer reads, and both sides print how many boxes they keep, so the table shows that they agree.
/// </summary>
static class BoxBench
{
    const int TorchThreads = 2;

    public static void Run()
    {
        var random = new Random(7);
        var spread = Spread(random, 10_000);
        var crowded = Crowded(random, objects: 100, perObject: 100);
        var classes = Enumerable.Range(0, 10_000).Select(_ => random.Next(10)).ToArray();
        var pairs = Spread(random, 1_000);

        string file = Path.Combine(Path.GetTempPath(), $"convkit-bench-boxes-{Environment.ProcessId}.bin");
        using (var writer = new BinaryWriter(File.Create(file)))
            foreach (var values in new[] { pairs.Boxes, spread.Boxes, spread.Scores, crowded.Boxes, crowded.Scores, classes.Select(c => (float)c).ToArray() })
                foreach (float value in values) writer.Write(value);

        var pairBoxes = Tensor.FromArray(pairs.Boxes, 1_000, 4);
        var cases = new (string Name, Func<int> Run)[]
        {
            ("box_iou 1,000 × 1,000", () => BoxOps.BoxIou(pairBoxes, pairBoxes).Numel),
            ("nms 10,000 spread, IoU 0.5", () => BoxOps.Nms(spread.Boxes, spread.Scores, 0.5).Length),
            ("nms 10,000 crowded, IoU 0.5", () => BoxOps.Nms(crowded.Boxes, crowded.Scores, 0.5).Length),
            ("batched_nms 10,000 crowded, 10 classes, IoU 0.5", () => BoxOps.BatchedNms(crowded.Boxes, crowded.Scores, classes, 0.5).Length),
        };
        var ours = cases.Select(c => (Seconds: Machine.MedianSeconds(() => c.Run(), warmup: 3, repeats: 15), Count: c.Run())).ToArray();
        string[] torch;
        try { torch = Machine.RunPython("boxes_torch.py", $"{TorchThreads} \"{file}\""); }
        finally { File.Delete(file); }

        Console.WriteLine();
        Console.WriteLine("## Box operations (suite `boxes`)");
        Console.WriteLine($"ConvKit threads: {ConvKit.Backends.Cpu.Threading.NumThreads}; torchvision 0.14 with torch.set_num_threads({TorchThreads}). " +
            "Count: IoU values computed, or boxes kept");
        Console.WriteLine();
        Console.WriteLine("| case | ConvKit ms | torchvision ms | ratio (torchvision / ConvKit) | ConvKit count | torchvision count |");
        Console.WriteLine("|---|---|---|---|---|---|");
        for (int i = 0; i < cases.Length; i++)
        {
            var parts = torch[i].Split(' ');
            double seconds = double.Parse(parts[0], CultureInfo.InvariantCulture);
            Console.WriteLine($"| {cases[i].Name} | {ours[i].Seconds * 1e3:F3} | {seconds * 1e3:F3} | {seconds / ours[i].Seconds:F2}× | {ours[i].Count:N0} | {long.Parse(parts[1], CultureInfo.InvariantCulture):N0} |");
        }
    }

    /// <summary>Boxes with centres anywhere on a 1,000 × 1,000 canvas, sides 10–110 pixels, uniform scores.</summary>
    static (float[] Boxes, float[] Scores) Spread(Random random, int count)
    {
        var boxes = new float[4 * count];
        for (int i = 0; i < count; i++)
            Box(boxes, i, 1000 * random.NextSingle(), 1000 * random.NextSingle(), 10 + 100 * random.NextSingle(), 10 + 100 * random.NextSingle());
        return (boxes, Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray());
    }

    /// <summary>Around each object, boxes whose corners are jittered by up to 20% of its size, as a detector proposes them.</summary>
    static (float[] Boxes, float[] Scores) Crowded(Random random, int objects, int perObject)
    {
        var boxes = new float[4 * objects * perObject];
        for (int o = 0; o < objects; o++)
        {
            float cx = 1000 * random.NextSingle(), cy = 1000 * random.NextSingle(), w = 20 + 100 * random.NextSingle(), h = 20 + 100 * random.NextSingle();
            for (int k = 0; k < perObject; k++)
                Box(boxes, o * perObject + k, cx + 0.2f * w * (random.NextSingle() - 0.5f), cy + 0.2f * h * (random.NextSingle() - 0.5f),
                    w * (0.8f + 0.4f * random.NextSingle()), h * (0.8f + 0.4f * random.NextSingle()));
        }
        return (boxes, Enumerable.Range(0, objects * perObject).Select(_ => random.NextSingle()).ToArray());
    }

    static void Box(float[] boxes, int i, float cx, float cy, float w, float h) =>
        (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
}
