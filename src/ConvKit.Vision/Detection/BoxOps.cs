using System.Numerics;
using ConvKit.Backends.Cpu;
using ConvKit.Data;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Box operations with torchvision's semantics (<c>torchvision.ops.boxes</c>): format conversion, pairwise IoU and
/// generalized IoU, non-maximum suppression and per-class (batched) NMS. Every box here is <b>xyxy in pixels</b>
/// (x1, y1, x2, y2 with x1 ≤ x2 and y1 ≤ y2); convert other layouts with <see cref="Convert"/> first. The results
/// carry no gradient.
/// <para>Where ConvKit and torchvision differ (both documented on the methods):</para>
/// <list type="bullet">
/// <item>Two zero-area boxes have IoU 0 here; torchvision divides 0 by 0 and returns NaN. NMS is unaffected: a NaN
/// IoU never exceeds the threshold in torchvision either.</item>
/// <item>A box with x2 &lt; x1 or y2 &lt; y1, a non-finite coordinate or a NaN score is an error here; torchvision
/// computes a negative area, or sorts a NaN score first and lets it suppress better boxes, without a word.</item>
/// </list>
/// </summary>
public static class BoxOps
{
    /// <summary>The boxes in another layout, like torchvision's <c>box_convert</c> (pixels stay pixels).</summary>
    /// <param name="boxes">(N, 4) in <paramref name="from"/></param>
    /// <returns>(N, 4) in <paramref name="to"/></returns>
    public static Tensor Convert(Tensor boxes, BoxFormat from, BoxFormat to)
    {
        CheckShape("Convert", "boxes", boxes);
        var converted = new float[boxes.Numel];
        BoundingBoxes.Convert(boxes.ToArray(), from, to, converted);
        return Tensor.FromArray(converted, boxes.Size(0), 4);
    }

    /// <summary>
    /// Pairwise intersection over union, torchvision's <c>box_iou</c>: iou[i, j] = area(a_i ∩ b_j) / area(a_i ∪ b_j),
    /// computed in float32 in torchvision's order. A pair whose union has no area (two zero-area boxes) has IoU 0,
    /// not torchvision's NaN.
    /// </summary>
    /// <param name="a">(N, 4) xyxy pixels</param>
    /// <param name="b">(M, 4) xyxy pixels</param>
    /// <returns>(N, M), values in [0, 1]</returns>
    public static Tensor BoxIou(Tensor a, Tensor b)
    {
        var (boxesA, boxesB) = (CheckBoxes("BoxIou", "a", a), CheckBoxes("BoxIou", "b", b));
        int n = boxesA.Length / 4, m = boxesB.Length / 4;
        var iou = new float[n * m];
        var areasB = new float[m];
        for (int j = 0; j < m; j++) areasB[j] = Area(boxesB.AsSpan(4 * j, 4));
        // Rows in parallel, each a flat loop over b: the same float32 operations in the same order as Iou, so the
        // values are identical; the per-pair span slicing of Iou cost 5× more than the arithmetic.
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Threading.NumThreads }, i =>
        {
            float ax1 = boxesA[4 * i], ay1 = boxesA[4 * i + 1], ax2 = boxesA[4 * i + 2], ay2 = boxesA[4 * i + 3];
            float areaA = (ax2 - ax1) * (ay2 - ay1);
            var row = iou.AsSpan(i * m, m);
            for (int j = 0; j < m; j++)
            {
                float w = MathF.Max(0, MathF.Min(ax2, boxesB[4 * j + 2]) - MathF.Max(ax1, boxesB[4 * j]));
                float h = MathF.Max(0, MathF.Min(ay2, boxesB[4 * j + 3]) - MathF.Max(ay1, boxesB[4 * j + 1]));
                float inter = w * h, union = areaA + areasB[j] - inter;
                row[j] = union > 0 ? inter / union : 0;
            }
        });
        return Tensor.FromArray(iou, n, m);
    }

    /// <summary>
    /// Pairwise generalized IoU, torchvision's <c>generalized_box_iou</c>: IoU − (area(C) − area(a ∪ b)) / area(C),
    /// with C the smallest box enclosing both. Where IoU is 0 by the zero-union rule of <see cref="BoxIou"/> and C
    /// has no area either (two zero-area boxes on one line or point), the penalty is 0 and GIoU is 0; torchvision
    /// returns NaN for every zero-union pair.
    /// </summary>
    /// <param name="a">(N, 4) xyxy pixels</param>
    /// <param name="b">(M, 4) xyxy pixels</param>
    /// <returns>(N, M), values in [−1, 1]</returns>
    public static Tensor GeneralizedBoxIou(Tensor a, Tensor b)
    {
        var (boxesA, boxesB) = (CheckBoxes("GeneralizedBoxIou", "a", a), CheckBoxes("GeneralizedBoxIou", "b", b));
        int n = boxesA.Length / 4, m = boxesB.Length / 4;
        var giou = new float[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                giou[i * m + j] = GeneralizedIou(boxesA.AsSpan(4 * i, 4), boxesB.AsSpan(4 * j, 4));
        return Tensor.FromArray(giou, n, m);
    }

    /// <summary>
    /// Non-maximum suppression, torchvision's <c>nms</c>: visit the boxes by decreasing score (equal scores by
    /// increasing index, as torchvision's stable sort does); keep a box unless its IoU with an already kept box is
    /// strictly greater than <paramref name="iouThreshold"/>. An IoU equal to the threshold is kept. As in
    /// torchvision's CPU kernel the IoU is a float32 and is compared with the threshold in float64, so an IoU of 3/10
    /// (the float 0.3f, slightly above 0.3) is suppressed at a threshold of 0.3.
    /// </summary>
    /// <param name="boxes">(N, 4) xyxy pixels</param>
    /// <param name="scores">(N); NaN is an error</param>
    /// <param name="iouThreshold">≥ 0 (above 1 keeps every box)</param>
    /// <returns>the indices of the kept boxes, by decreasing score; empty for N = 0</returns>
    public static int[] Nms(Tensor boxes, Tensor scores, double iouThreshold)
    {
        var data = CheckBoxes("Nms", "boxes", boxes);
        return NmsCore(data, CheckScores("Nms", scores, data.Length / 4), iouThreshold, "Nms");
    }

    /// <summary><see cref="Nms(Tensor, Tensor, double)"/> on spans.</summary>
    /// <param name="boxes">4·N numbers, xyxy pixels, box after box</param>
    /// <param name="scores">N scores</param>
    public static int[] Nms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, double iouThreshold)
    {
        CheckBoxes("Nms", "boxes", boxes, out int n);
        CheckScores("Nms", scores, n);
        return NmsCore(boxes, scores, iouThreshold, "Nms");
    }

    /// <summary>
    /// Per-class NMS, torchvision's <c>batched_nms</c>: boxes of different classes never suppress each other; the
    /// result is the union of each class's <see cref="Nms(Tensor, Tensor, double)"/>, by decreasing score (equal
    /// scores by increasing index). Each class runs on the original coordinates, like torchvision's per-class path
    /// (which it takes above 1,000 boxes on the CPU); its coordinate-offset path for fewer boxes gives the same result
    /// except where offsetting non-integer coordinates rounds an IoU across the threshold.
    /// </summary>
    /// <param name="boxes">(N, 4) xyxy pixels</param>
    /// <param name="scores">(N); NaN is an error</param>
    /// <param name="classIndices">N class indices (any integers)</param>
    /// <param name="iouThreshold">≥ 0</param>
    /// <returns>the indices of the kept boxes, by decreasing score; empty for N = 0</returns>
    public static int[] BatchedNms(Tensor boxes, Tensor scores, ReadOnlySpan<int> classIndices, double iouThreshold)
    {
        var data = CheckBoxes("BatchedNms", "boxes", boxes);
        var scoreData = CheckScores("BatchedNms", scores, data.Length / 4);
        return BatchedNms(data, scoreData, classIndices, iouThreshold);
    }

    /// <summary><see cref="BatchedNms(Tensor, Tensor, ReadOnlySpan{int}, double)"/> on spans.</summary>
    /// <param name="boxes">4·N numbers, xyxy pixels, box after box</param>
    public static int[] BatchedNms(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<int> classIndices, double iouThreshold)
    {
        CheckBoxes("BatchedNms", "boxes", boxes, out int n);
        CheckScores("BatchedNms", scores, n);
        if (classIndices.Length != n)
            throw new ArgumentException($"BatchedNms: {classIndices.Length} class indices for {n} boxes; give one per box.");
        CheckThreshold("BatchedNms", iouThreshold);

        var members = new Dictionary<int, List<int>>();
        for (int i = 0; i < n; i++)
        {
            if (!members.TryGetValue(classIndices[i], out var list)) members[classIndices[i]] = list = [];
            list.Add(i);
        }
        var kept = new List<int>(n);
        foreach (var indices in members.Values)
        {
            var classBoxes = new float[4 * indices.Count];
            var classScores = new float[indices.Count];
            for (int k = 0; k < indices.Count; k++)
            {
                boxes.Slice(4 * indices[k], 4).CopyTo(classBoxes.AsSpan(4 * k));
                classScores[k] = scores[indices[k]];
            }
            foreach (int k in NmsCore(classBoxes, classScores, iouThreshold, "BatchedNms")) kept.Add(indices[k]);
        }
        var keys = new ulong[kept.Count];
        for (int k = 0; k < keys.Length; k++) keys[k] = SortKey(scores[kept[k]], kept[k]);
        Array.Sort(keys);
        return keys.Select(key => (int)(uint)key).ToArray();
    }

    // ----- the fast path -----------------------------------------------------------------------------------

    // Sort once; gather the sorted boxes into one array per coordinate with their areas precomputed; then for each
    // surviving box compute its IoU with every later box Vector<float>.Count at a time and mark the ones above the
    // threshold. Suppressed boxes are skipped without any IoU. The arithmetic is torchvision's, float for float:
    // inter / (area_i + area_j − inter), a 0/0 NaN never exceeding the threshold. BoxOpsReference is the plain twin.
    static int[] NmsCore(ReadOnlySpan<float> boxes, ReadOnlySpan<float> scores, double iouThreshold, string op)
    {
        CheckThreshold(op, iouThreshold);
        int n = scores.Length;
        if (n == 0) return [];
        var order = SortedOrder(scores);
        float[] x1 = new float[n], y1 = new float[n], x2 = new float[n], y2 = new float[n], area = new float[n];
        for (int k = 0; k < n; k++)
        {
            var box = boxes.Slice(4 * order[k], 4);
            (x1[k], y1[k], x2[k], y2[k]) = (box[0], box[1], box[2], box[3]);
            area[k] = (box[2] - box[0]) * (box[3] - box[1]);
        }
        var threshold = new Vector<float>(FloatThreshold(iouThreshold));
        float scalarThreshold = threshold[0];
        var suppressed = new int[n]; // 0 or −1 (all bits), the lanes of Vector.GreaterThan
        var kept = new List<int>();
        int width = Vector<float>.Count;
        for (int i = 0; i < n; i++)
        {
            if (suppressed[i] != 0) continue;
            kept.Add(order[i]);
            float ix1 = x1[i], iy1 = y1[i], ix2 = x2[i], iy2 = y2[i], iarea = area[i];
            var (vx1, vy1, vx2, vy2, varea) = (new Vector<float>(ix1), new Vector<float>(iy1), new Vector<float>(ix2), new Vector<float>(iy2), new Vector<float>(iarea));
            int j = i + 1;
            for (; j + width <= n; j += width)
            {
                var w = Vector.Max(Vector<float>.Zero, Vector.Min(vx2, new Vector<float>(x2, j)) - Vector.Max(vx1, new Vector<float>(x1, j)));
                var h = Vector.Max(Vector<float>.Zero, Vector.Min(vy2, new Vector<float>(y2, j)) - Vector.Max(vy1, new Vector<float>(y1, j)));
                var inter = w * h;
                var iou = inter / (varea + new Vector<float>(area, j) - inter);
                (new Vector<int>(suppressed, j) | Vector.GreaterThan(iou, threshold)).CopyTo(suppressed, j);
            }
            for (; j < n; j++)
            {
                float w = MathF.Max(0, MathF.Min(ix2, x2[j]) - MathF.Max(ix1, x1[j]));
                float h = MathF.Max(0, MathF.Min(iy2, y2[j]) - MathF.Max(iy1, y1[j]));
                float inter = w * h;
                if (inter / (iarea + area[j] - inter) > scalarThreshold) suppressed[j] = -1;
            }
        }
        return kept.ToArray();
    }

    /// <summary>
    /// The largest float32 t ≤ <paramref name="threshold"/>: for a float32 IoU x, x > threshold (compared in float64,
    /// as torchvision does) exactly when x > t, so the vectorised loop can stay in float32.
    /// </summary>
    internal static float FloatThreshold(double threshold)
    {
        float t = (float)threshold;
        return t > threshold ? MathF.BitDecrement(t) : t;
    }

    /// <summary>The indices by decreasing score, equal scores by increasing index.</summary>
    static int[] SortedOrder(ReadOnlySpan<float> scores)
    {
        var keys = new ulong[scores.Length];
        for (int i = 0; i < keys.Length; i++) keys[i] = SortKey(scores[i], i);
        Array.Sort(keys);
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++) order[i] = (int)(uint)keys[i];
        return order;
    }

    // One 64-bit key per box whose ascending order is decreasing score, then increasing index: the float's bits
    // mapped to an unsigned integer that increases with the float (negatives flipped whole, positives with the sign
    // bit set), inverted for descending, above the index. −0 is folded into +0 so that the two tie, as in a sort.
    static ulong SortKey(float score, int index)
    {
        if (score == 0) score = 0;
        uint bits = BitConverter.SingleToUInt32Bits(score);
        uint ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ((ulong)~ascending << 32) | (uint)index;
    }

    // ----- one pair of boxes, float32 in torchvision's order -----------------------------------------------

    internal static float Area(ReadOnlySpan<float> box) => (box[2] - box[0]) * (box[3] - box[1]);

    internal static (float Inter, float Union) InterUnion(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float w = MathF.Max(0, MathF.Min(a[2], b[2]) - MathF.Max(a[0], b[0]));
        float h = MathF.Max(0, MathF.Min(a[3], b[3]) - MathF.Max(a[1], b[1]));
        float inter = w * h;
        return (inter, Area(a) + Area(b) - inter);
    }

    /// <summary>IoU of two xyxy boxes; 0 when the union has no area.</summary>
    internal static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var (inter, union) = InterUnion(a, b);
        return union > 0 ? inter / union : 0;
    }

    internal static float GeneralizedIou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var (inter, union) = InterUnion(a, b);
        float iou = union > 0 ? inter / union : 0;
        float enclosing = (MathF.Max(a[2], b[2]) - MathF.Min(a[0], b[0])) * (MathF.Max(a[3], b[3]) - MathF.Min(a[1], b[1]));
        return enclosing > 0 ? iou - (enclosing - union) / enclosing : iou;
    }

    // ----- validation, before any work ---------------------------------------------------------------------

    static void CheckShape(string op, string name, Tensor boxes)
    {
        if (boxes.Rank != 2 || boxes.Size(1) != 4)
            throw new ArgumentException($"{op}: {name} must be (N, 4) xyxy pixels, not shape [{string.Join(", ", boxes.Shape)}].");
    }

    static float[] CheckBoxes(string op, string name, Tensor boxes)
    {
        CheckShape(op, name, boxes);
        var data = boxes.ToArray();
        CheckBoxes(op, name, data, out _);
        return data;
    }

    static void CheckBoxes(string op, string name, ReadOnlySpan<float> boxes, out int count)
    {
        if (boxes.Length % 4 != 0)
            throw new ArgumentException($"{op}: {name} holds {boxes.Length} numbers; give 4 per box (xyxy pixels).");
        count = boxes.Length / 4;
        for (int i = 0; i < count; i++)
        {
            float x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
            if (!float.IsFinite(x1) || !float.IsFinite(y1) || !float.IsFinite(x2) || !float.IsFinite(y2))
                throw new ArgumentException($"{op}: box {i} of {name} is ({x1}, {y1}, {x2}, {y2}): every coordinate must be a finite number.");
            if (x2 < x1 || y2 < y1)
                throw new ArgumentException($"{op}: box {i} of {name} is ({x1}, {y1}, {x2}, {y2}): x2 < x1 or y2 < y1; boxes must be xyxy pixels with x1 ≤ x2 and y1 ≤ y2 (BoxOps.Convert converts other formats).");
        }
    }

    static float[] CheckScores(string op, Tensor scores, int count)
    {
        if (scores.Rank != 1 || scores.Size(0) != count)
            throw new ArgumentException($"{op}: scores must be ({count}), one per box, not shape [{string.Join(", ", scores.Shape)}].");
        var data = scores.ToArray();
        CheckScores(op, data, count);
        return data;
    }

    static void CheckScores(string op, ReadOnlySpan<float> scores, int count)
    {
        if (scores.Length != count)
            throw new ArgumentException($"{op}: {scores.Length} scores for {count} boxes; give one per box.");
        for (int i = 0; i < count; i++)
            if (float.IsNaN(scores[i])) throw new ArgumentException($"{op}: score {i} is NaN; scores must be numbers (filter NaN detections first).");
    }

    static void CheckThreshold(string op, double iouThreshold)
    {
        if (double.IsNaN(iouThreshold) || iouThreshold < 0)
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, $"{op}: the IoU threshold must be a number ≥ 0.");
    }
}
