namespace ConvKit.Vision.Detection;

/// <summary>
/// The plain twin of <see cref="BoxOps"/>'s NMS: the definition written out, one pair of boxes at a time, O(N²).
/// Tests assert the fast path returns exactly the same indices. Inputs are assumed valid (xyxy pixels, no NaN).
/// </summary>
internal static class BoxOpsReference
{
    /// <param name="boxes">4·N numbers, xyxy pixels</param>
    /// <param name="scores">N scores</param>
    public static int[] Nms(float[] boxes, float[] scores, double iouThreshold) =>
        BatchedNms(boxes, scores, new int[scores.Length], iouThreshold);

    /// <summary>Visit the boxes by decreasing score, equal scores by increasing index; keep a box unless a kept box of
    /// its class overlaps it with IoU &gt; threshold (the float32 IoU compared in float64, as torchvision does).</summary>
    public static int[] BatchedNms(float[] boxes, float[] scores, int[] classIndices, double iouThreshold)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i);
        var kept = new List<int>();
        foreach (int i in order)
        {
            bool suppressed = kept.Any(k => classIndices[k] == classIndices[i]
                && (double)BoxOps.Iou(boxes.AsSpan(4 * k, 4), boxes.AsSpan(4 * i, 4)) > iouThreshold);
            if (!suppressed) kept.Add(i);
        }
        return kept.ToArray();
    }
}
