using System.Diagnostics;
using System.Globalization;
using ConvKit.Data;
using ConvKit.Vision.Data;
using ConvKit.Vision.Detection;

namespace ConvKit.Bench;

/// <summary>
/// Selective search's proposal recall on held-out Fashion-MNIST detection scenes: test scenes 0 .. N − 1 of
/// <c>FashionScenes.Make(IdxDatasets.FashionMnist(false), options, train: false, i)</c> with 128×128 canvases, 1–6
/// items of scale 1–2.5, box overlap ≤ 0.3. An object is found within B proposals when one of the first B has IoU ≥ t
/// with its box; recall is found objects over all objects. Time per scene is <see cref="SelectiveSearch.Propose"/>'s
/// alone, one scene at a time on one thread. No peer: the table is ConvKit's own. The rows are the paper's fast mode (the
/// defaults), its quality mode's scales and similarities, and finer scales (k from 10, minimum segment k pixels) that
/// split touching items the coarser ones merge.
/// Usage: <c>proposals [SCENES=200]</c>.
/// </summary>
static class ProposalBench
{
    static readonly int[] Budgets = [50, 100, 200, 300];
    static readonly double[] Thresholds = [0.5, 0.7];

    static readonly FashionScenesOptions Scenes = new()
    {
        CanvasSize = 128, MinItems = 1, MaxItems = 6, MinScale = 1.0, MaxScale = 2.5, MaxOverlap = 0.3,
    };

    const RegionSimilarity TextureSizeFill = RegionSimilarity.Texture | RegionSimilarity.Size | RegionSimilarity.Fill;

    static readonly (string Name, SelectiveSearchOptions Options)[] Strategies =
    [
        ("fast: k 50, 100; C+T+S+F, T+S+F", new SelectiveSearchOptions()),
        ("quality: k 50, 100, 150, 300; C+T+S+F, T+S+F, F, S", new SelectiveSearchOptions
        {
            Scales = [50, 100, 150, 300], Similarities = [RegionSimilarity.All, TextureSizeFill, RegionSimilarity.Fill, RegionSimilarity.Size],
        }),
        ("fine: k 10, 20, 50, 100, 200; C+T+S+F, T+S+F, F, S", new SelectiveSearchOptions
        {
            Scales = [10, 20, 50, 100, 200], Similarities = [RegionSimilarity.All, TextureSizeFill, RegionSimilarity.Fill, RegionSimilarity.Size],
        }),
    ];

    public static void Run(string[] arguments)
    {
        int count = arguments.Length > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 200;
        var source = IdxDatasets.FashionMnist(false);
        var scenes = Enumerable.Range(0, count).Select(i => FashionScenes.Make(source, Scenes, train: false, i)).ToArray();
        int objects = scenes.Sum(s => s.Items.Count);

        Console.WriteLine();
        Console.WriteLine("## Region proposals (suite `proposals`)");
        Console.WriteLine($"Selective search on {count} test scenes (128×128, grey, 1–6 items of scale 1–2.5, overlap ≤ 0.3), {objects} objects. " +
            "Recall at IoU t within the first B proposals (R@0.5 all: within all of them); milliseconds per scene on 1 thread.");
        Console.WriteLine();
        var header = Thresholds.SelectMany(t => Budgets.Select(b => $"R@{t:F1} B={b}")).ToArray();
        Console.WriteLine($"| strategies | {string.Join(" | ", header)} | R@0.5 all | proposals/scene | ms/scene |");
        Console.WriteLine($"|---|{string.Concat(Enumerable.Repeat("---|", header.Length + 3))}");
        foreach (var (name, options) in Strategies)
        {
            var found = new int[Thresholds.Length, Budgets.Length + 1];
            long proposals = 0;
            var clock = new Stopwatch();
            foreach (var scene in scenes)
            {
                clock.Start();
                var boxes = SelectiveSearch.Propose(scene.Picture, options);
                clock.Stop();
                proposals += boxes.Count;
                foreach (var item in scene.Items)
                {
                    // rank of the first proposal reaching each threshold
                    var first = Thresholds.Select(_ => int.MaxValue).ToArray();
                    for (int r = 0; r < boxes.Count; r++)
                    {
                        double iou = Iou(item.Box, boxes[r]);
                        for (int t = 0; t < Thresholds.Length; t++)
                            if (iou >= Thresholds[t] && first[t] == int.MaxValue) first[t] = r;
                    }
                    for (int t = 0; t < Thresholds.Length; t++)
                    {
                        for (int b = 0; b < Budgets.Length; b++) found[t, b] += first[t] < Budgets[b] ? 1 : 0;
                        found[t, Budgets.Length] += first[t] < int.MaxValue ? 1 : 0;
                    }
                }
            }
            var cells = Thresholds.SelectMany((_, t) => Budgets.Select((_, b) => $"{100.0 * found[t, b] / objects:F1}%"));
            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} | {100.0 * found[0, Budgets.Length] / objects:F1}% | " +
                $"{(double)proposals / count:F0} | {clock.Elapsed.TotalMilliseconds / count:F1} |");
        }
    }

    static double Iou((int X1, int Y1, int X2, int Y2) a, RegionProposal b)
    {
        double w = Math.Max(0, Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1)), h = Math.Max(0, Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));
        double inter = w * h, union = (a.X2 - a.X1) * (a.Y2 - a.Y1) + (b.X2 - b.X1) * (b.Y2 - b.Y1) - inter;
        return inter / union;
    }
}
