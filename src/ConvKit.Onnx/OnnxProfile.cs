using System.Diagnostics;

namespace ConvKit.Onnx;

/// <summary>
/// Where an <see cref="OnnxModule"/>'s inference time goes: set <see cref="OnnxModule.Profile"/> to one, run the model,
/// and read the wall-clock time each planned step took, summed by step kind (<see cref="OnnxModule.PlannedOps"/>'s
/// names, <c>Conv+Relu</c> apart from <c>Conv</c>). Each step is timed on its own, so the sum is the graph's time
/// less the bookkeeping between steps.
/// </summary>
public sealed class OnnxProfile
{
    readonly Dictionary<string, (int Count, long Ticks)> steps = [];

    /// <summary>The steps timed so far by kind: how many ran and their total time, slowest kind first.</summary>
    public IReadOnlyList<(string Step, int Count, TimeSpan Time)> Steps =>
        [.. steps.Select(p => (p.Key, p.Value.Count, Stopwatch.GetElapsedTime(0, p.Value.Ticks))).OrderByDescending(s => s.Item3)];

    /// <summary>The total time of every step timed so far.</summary>
    public TimeSpan Total => Stopwatch.GetElapsedTime(0, steps.Values.Sum(s => s.Ticks));

    /// <summary>Forgets what was timed (after a warm-up run, say).</summary>
    public void Clear() => steps.Clear();

    internal void Add(string step, long ticks)
    {
        var (count, total) = steps.GetValueOrDefault(step);
        steps[step] = (count + 1, total + ticks);
    }
}
