namespace ConvKit.Vision.Detection;

/// <summary>
/// A ground-truth box, xyxy pixels. <paramref name="Crowd"/> is COCO's <c>iscrowd</c> (a region that absorbs any
/// number of detections without reward or penalty); <paramref name="Difficult"/> is Pascal VOC's flag (neither counted
/// nor penalised by <see cref="DetectionEvaluator.Voc"/>; COCO does not look at it).
/// </summary>
public sealed record GroundTruthBox(int Image, int Class, float X1, float Y1, float X2, float Y2, bool Crowd = false, bool Difficult = false);

/// <summary>A detection, xyxy pixels, with its confidence (any number but NaN; higher is more confident).</summary>
public sealed record DetectedBox(int Image, int Class, float X1, float Y1, float X2, float Y2, float Score);

/// <summary>How <see cref="DetectionEvaluator.Voc"/> turns a precision–recall curve into an AP.</summary>
public enum VocInterpolation
{
    /// <summary>VOC2010 and later: the area under the monotone precision envelope, summed at every change of recall.</summary>
    AllPoints,
    /// <summary>VOC2007: the mean over t = 0, 0.1, …, 1 of the highest precision at a recall ≥ t (0 where none).</summary>
    ElevenPoint,
}

/// <summary>
/// COCO's summary (pycocotools <c>COCOeval.stats</c>, iouType 'bbox') as named numbers. An AP or AR is NaN where
/// pycocotools prints −1: no class has a (non-ignored) ground truth in that area range.
/// </summary>
/// <param name="Ap">AP@[.5:.95]: the mean over the IoU thresholds .50:.05:.95, the 101 recall points and the classes</param>
/// <param name="ArMax">AR at <see cref="MaxDetections"/> (pycocotools' AR@100 at the default)</param>
/// <param name="ClassAp">AP@[.5:.95] per class, area all; NaN for a class without ground truth</param>
/// <param name="ClassAp50">AP@.5 per class, area all; NaN for a class without ground truth</param>
/// <param name="PrecisionAt50">per class, the interpolated precision at each of <see cref="RecallThresholds"/>, IoU .5,
/// area all (pycocotools' <c>precision[0, :, k, 0, -1]</c>); null for a class without ground truth</param>
public sealed record CocoResult(
    double Ap, double Ap50, double Ap75, double ApSmall, double ApMedium, double ApLarge,
    double Ar1, double Ar10, double ArMax, double ArSmall, double ArMedium, double ArLarge,
    int MaxDetections, double[] ClassAp, double[] ClassAp50, double[]?[] PrecisionAt50)
{
    /// <summary>The 101 recall points 0, 0.01, …, 1 of the precision curves.</summary>
    public static IReadOnlyList<double> RecallThresholds => DetectionEvaluator.RecallThresholds;

    /// <summary>The twelve numbers in pycocotools' <c>stats</c> order (NaN where it has −1).</summary>
    public double[] Stats => [Ap, Ap50, Ap75, ApSmall, ApMedium, ApLarge, Ar1, Ar10, ArMax, ArSmall, ArMedium, ArLarge];
}

/// <summary>Pascal VOC AP per class and their mean.</summary>
/// <param name="ClassAp">per class; NaN for a class without a non-difficult ground truth</param>
/// <param name="Map">the mean over the classes that have one; NaN when none has</param>
public sealed record VocResult(double Map, double[] ClassAp, double IouThreshold, VocInterpolation Interpolation);

/// <summary>
/// Detection metrics with their published definitions: COCO's AP@[.5:.95], AP50, AP75, AP and AR by area and AR at
/// 1/10/max detections (pycocotools <c>COCOeval</c>, iouType 'bbox'), and Pascal VOC AP with all-point (VOC2010+) or
/// 11-point (VOC2007) interpolation. Add the ground truths and detections of every image (in one call or many), then
/// ask for <see cref="Coco"/> or <see cref="Voc"/>; both can be asked for repeatedly. Boxes are xyxy pixels.
/// <para>Choices, where the sources leave room or ConvKit's inputs differ from theirs:</para>
/// <list type="bullet">
/// <item>COCO's area ranges use the box area (x2 − x1)·(y2 − y1), for ground truths too; pycocotools uses the
/// annotation's <c>area</c> field (the segmentation's area in the COCO data set), which a box-only input does not
/// have. For detections pycocotools uses the box area as here.</item>
/// <item>IoU counts when ≥ the threshold, for COCO (as pycocotools) and VOC (as the devkit's MATLAB
/// <c>VOCevaldet</c>; py-faster-rcnn's <c>voc_eval.py</c> uses &gt;). IoU has no +1 on widths (continuous pixel
/// coordinates, like pycocotools and <see cref="BoxOps"/>); the VOC devkit adds 1 for its inclusive integer pixels.</item>
/// <item>The COCO detection limit is per image and class, as in pycocotools (<c>evaluateImg</c> and
/// <c>accumulate</c> cut each image-category's score-sorted list); cap detections per image before adding them if
/// that is the rule wanted.</item>
/// <item>Equal scores keep the order of addition (pycocotools' stable sort within an image; across images, lower
/// image numbers first, as its sorted image ids). VOC sorts the same way; <c>voc_eval.py</c>'s quicksort leaves ties
/// unspecified.</item>
/// <item>The 11 VOC recall points are exactly i/10; numpy's <c>arange(0, 1.1, 0.1)</c> gives 0.30000000000000004 at
/// i = 3, so a recall of exactly 3/10 counts at t = 0.3 here and not there.</item>
/// <item>A class without (non-ignored, non-difficult) ground truth is left out of the means, with AP NaN (pycocotools'
/// −1); with no ground truth at all the means are NaN. A class with ground truth and no detections has AP 0.</item>
/// </list>
/// </summary>
public sealed class DetectionEvaluator
{
    // pycocotools' p.iouThrs and p.recThrs: numpy's linspace, i·step + start with the last value set to stop.
    static readonly double[] IouThresholds = Linspace(0.5, 0.95, 10);
    internal static readonly double[] RecallThresholds = Linspace(0, 1, 101);
    static readonly (double Min, double Max)[] AreaRanges = [(0, 1e10), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e10)];

    readonly int classes;
    readonly List<GroundTruthBox> truths = [];
    readonly List<DetectedBox> detections = [];

    /// <param name="classes">the number of classes; boxes have classes 0 … classes − 1</param>
    public DetectionEvaluator(int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "DetectionEvaluator: there must be at least one class.");
        this.classes = classes;
    }

    /// <summary>Number of classes, numbered from 0.</summary>
    public int Classes => classes;

    /// <summary>
    /// Adds ground truths and detections (of one image or several; each box names its image). Every box is checked
    /// before any is kept: finite coordinates with x1 ≤ x2 and y1 ≤ y2, a class in range, a score that is not NaN.
    /// </summary>
    public void Add(IEnumerable<GroundTruthBox> truths, IEnumerable<DetectedBox> detections)
    {
        ArgumentNullException.ThrowIfNull(truths);
        ArgumentNullException.ThrowIfNull(detections);
        var newTruths = truths.ToList();
        var newDetections = detections.ToList();
        for (int i = 0; i < newTruths.Count; i++)
        {
            var g = newTruths[i] ?? throw new ArgumentException($"DetectionEvaluator.Add: ground truth {i} is null.");
            CheckBox($"ground truth {i} {g}", g.Class, g.X1, g.Y1, g.X2, g.Y2);
        }
        for (int i = 0; i < newDetections.Count; i++)
        {
            var d = newDetections[i] ?? throw new ArgumentException($"DetectionEvaluator.Add: detection {i} is null.");
            CheckBox($"detection {i} {d}", d.Class, d.X1, d.Y1, d.X2, d.Y2);
            if (float.IsNaN(d.Score)) throw new ArgumentException($"DetectionEvaluator.Add: detection {i} {d} has a NaN score; scores must be numbers.");
        }
        this.truths.AddRange(newTruths);
        this.detections.AddRange(newDetections);
    }

    void CheckBox(string what, int cls, float x1, float y1, float x2, float y2)
    {
        if (cls < 0 || cls >= classes)
            throw new ArgumentException($"DetectionEvaluator.Add: {what} has class {cls}, outside 0 … {classes - 1}.");
        if (!float.IsFinite(x1) || !float.IsFinite(y1) || !float.IsFinite(x2) || !float.IsFinite(y2))
            throw new ArgumentException($"DetectionEvaluator.Add: {what} has a coordinate that is not a finite number.");
        if (x2 < x1 || y2 < y1)
            throw new ArgumentException($"DetectionEvaluator.Add: {what} has x2 < x1 or y2 < y1; boxes must be xyxy pixels with x1 ≤ x2 and y1 ≤ y2 (BoxOps.Convert converts other formats).");
    }

    // ----- COCO ------------------------------------------------------------------------------------------

    /// <summary>
    /// COCO's bbox evaluation (pycocotools <c>COCOeval.evaluate</c>, <c>accumulate</c>, <c>summarize</c>). Per image and
    /// class the detections are sorted by score (stable) and cut to <paramref name="maxDetections"/>; at each IoU
    /// threshold each detection in turn takes the ground truth it overlaps most (IoU ≥ threshold) among those not yet
    /// taken, non-ignored ones first; crowd ground truths can be taken any number of times and, like ground truths
    /// outside the area range, are ignored, and so are the detections that take them and the unmatched detections
    /// outside the area range. Precision at the 101 recall points comes from the precision envelope; AP is their mean.
    /// </summary>
    /// <param name="maxDetections">detections kept per image and class (pycocotools' maxDets[-1]); AR is also reported at 1 and 10</param>
    public CocoResult Coco(int maxDetections = 100)
    {
        if (maxDetections < 1) throw new ArgumentOutOfRangeException(nameof(maxDetections), maxDetections, "DetectionEvaluator.Coco: keep at least one detection per image and class.");
        int[] maxDets = [Math.Min(1, maxDetections), Math.Min(10, maxDetections), maxDetections];
        int t = IouThresholds.Length, r = RecallThresholds.Length, areas = AreaRanges.Length;
        // precision[t, r, k, a, m] and recall[t, k, a, m] as pycocotools, NaN for its −1
        var precision = new double[t, r, classes, areas, maxDets.Length];
        var recall = new double[t, classes, areas, maxDets.Length];

        var cells = Group();
        for (int k = 0; k < classes; k++)
            for (int a = 0; a < areas; a++)
            {
                var evaluated = new List<ImageMatches>();
                foreach (var image in cells.Images)
                    if (cells.Truths.TryGetValue((image, k), out var g) | cells.Detections.TryGetValue((image, k), out var d))
                        evaluated.Add(EvaluateImage(g ?? [], d ?? [], AreaRanges[a], maxDetections));
                for (int m = 0; m < maxDets.Length; m++)
                    Accumulate(evaluated, maxDets[m], precision, recall, k, a, m);
            }

        double Summary(bool ap, int iou, int area, int m)
        {
            double sum = 0;
            long count = 0;
            for (int ti = 0; ti < t; ti++)
            {
                if (iou >= 0 && ti != iou) continue;
                for (int k = 0; k < classes; k++)
                    if (ap)
                        for (int ri = 0; ri < r; ri++) Add(precision[ti, ri, k, area, m]);
                    else Add(recall[ti, k, area, m]);
            }
            return count == 0 ? double.NaN : sum / count;

            void Add(double value)
            {
                if (double.IsNaN(value)) return;
                sum += value;
                count++;
            }
        }

        var classAp = new double[classes];
        var classAp50 = new double[classes];
        var curves = new double[]?[classes];
        for (int k = 0; k < classes; k++)
        {
            if (double.IsNaN(precision[0, 0, k, 0, 2])) { classAp[k] = classAp50[k] = double.NaN; continue; }
            double all = 0, at50 = 0;
            curves[k] = new double[r];
            for (int ti = 0; ti < t; ti++)
                for (int ri = 0; ri < r; ri++) all += precision[ti, ri, k, 0, 2];
            for (int ri = 0; ri < r; ri++) at50 += curves[k]![ri] = precision[0, ri, k, 0, 2];
            classAp[k] = all / (t * r);
            classAp50[k] = at50 / r;
        }
        return new CocoResult(
            Summary(true, -1, 0, 2), Summary(true, 0, 0, 2), Summary(true, 5, 0, 2),
            Summary(true, -1, 1, 2), Summary(true, -1, 2, 2), Summary(true, -1, 3, 2),
            Summary(false, -1, 0, 0), Summary(false, -1, 0, 1), Summary(false, -1, 0, 2),
            Summary(false, -1, 1, 2), Summary(false, -1, 2, 2), Summary(false, -1, 3, 2),
            maxDetections, classAp, classAp50, curves);
    }

    /// <summary>One image and class at one area range: pycocotools' evaluateImg result.</summary>
    /// <param name="Scores">the kept detections' scores, descending</param>
    /// <param name="Matched">[threshold, detection]: whether the detection took a ground truth</param>
    /// <param name="Ignored">[threshold, detection]: whether the detection is ignored</param>
    /// <param name="CountedTruths">ground truths that are not ignored</param>
    sealed record ImageMatches(float[] Scores, bool[,] Matched, bool[,] Ignored, int CountedTruths);

    static ImageMatches EvaluateImage(List<GroundTruthBox> gt, List<DetectedBox> dt, (double Min, double Max) range, int maxDetections)
    {
        bool OutOfRange(double area) => area < range.Min || area > range.Max;
        // ground truths: non-ignored first, in order (numpy's stable argsort of the ignore flags)
        var truthIgnored = gt.Select(g => g.Crowd || OutOfRange(Area(g.X1, g.Y1, g.X2, g.Y2))).ToArray();
        var truthOrder = Enumerable.Range(0, gt.Count).OrderBy(i => truthIgnored[i]).ToArray();
        var sortedTruths = truthOrder.Select(i => gt[i]).ToArray();
        var ignored = truthOrder.Select(i => truthIgnored[i]).ToArray();
        // detections: by descending score, stable, cut to the limit
        var sortedDetections = dt.Select((d, i) => (d, i)).OrderByDescending(p => p.d.Score).ThenBy(p => p.i).Take(maxDetections).Select(p => p.d).ToArray();

        var iou = new double[sortedDetections.Length, sortedTruths.Length];
        for (int di = 0; di < sortedDetections.Length; di++)
            for (int gi = 0; gi < sortedTruths.Length; gi++) iou[di, gi] = CocoIou(sortedDetections[di], sortedTruths[gi]);

        int nt = IouThresholds.Length, nd = sortedDetections.Length, ng = sortedTruths.Length;
        var matched = new bool[nt, nd];
        var detectionIgnored = new bool[nt, nd];
        for (int ti = 0; ti < nt; ti++)
        {
            var truthTaken = new bool[ng];
            for (int di = 0; di < nd; di++)
            {
                double best = Math.Min(IouThresholds[ti], 1 - 1e-10);
                int m = -1;
                for (int gi = 0; gi < ng; gi++)
                {
                    if (truthTaken[gi] && !sortedTruths[gi].Crowd) continue;
                    // a match with a counted ground truth is never traded for an ignored one
                    if (m > -1 && !ignored[m] && ignored[gi]) break;
                    if (iou[di, gi] < best) continue;
                    // an equal IoU moves the match to the later ground truth, as pycocotools' loop does
                    best = iou[di, gi];
                    m = gi;
                }
                if (m == -1) continue;
                detectionIgnored[ti, di] = ignored[m];
                matched[ti, di] = true;
                truthTaken[m] = true;
            }
            for (int di = 0; di < nd; di++)
            {
                var d = sortedDetections[di];
                if (!matched[ti, di] && OutOfRange(Area(d.X1, d.Y1, d.X2, d.Y2))) detectionIgnored[ti, di] = true;
            }
        }
        return new ImageMatches(sortedDetections.Select(d => d.Score).ToArray(), matched, detectionIgnored, ignored.Count(i => !i));
    }

    static void Accumulate(List<ImageMatches> images, int maxDet, double[,,,,] precision, double[,,,] recall, int k, int a, int m)
    {
        int nt = IouThresholds.Length, nr = RecallThresholds.Length;
        int counted = images.Sum(e => e.CountedTruths);
        if (counted == 0)
        {
            for (int ti = 0; ti < nt; ti++)
            {
                recall[ti, k, a, m] = double.NaN;
                for (int ri = 0; ri < nr; ri++) precision[ti, ri, k, a, m] = double.NaN;
            }
            return;
        }
        // every image's first maxDet detections, concatenated in image order, then sorted by score (stable)
        var rows = new List<(float Score, ImageMatches Image, int Index)>();
        foreach (var e in images)
            for (int i = 0; i < Math.Min(maxDet, e.Scores.Length); i++) rows.Add((e.Scores[i], e, i));
        var order = rows.Select((row, i) => (row, i)).OrderByDescending(p => p.row.Score).ThenBy(p => p.i).Select(p => p.row).ToArray();
        int nd = order.Length;
        for (int ti = 0; ti < nt; ti++)
        {
            var rc = new double[nd];
            var pr = new double[nd];
            double tp = 0, fp = 0;
            for (int i = 0; i < nd; i++)
            {
                var (_, image, index) = order[i];
                if (!image.Ignored[ti, index])
                {
                    if (image.Matched[ti, index]) tp++;
                    else fp++;
                }
                rc[i] = tp / counted;
                pr[i] = tp / (fp + tp + Spacing1);
            }
            recall[ti, k, a, m] = nd > 0 ? rc[nd - 1] : 0;
            for (int i = nd - 1; i > 0; i--)
                if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
            // the precision at the first detection whose recall reaches each threshold; 0 past the last recall
            int first = 0;
            for (int ri = 0; ri < nr; ri++)
            {
                while (first < nd && rc[first] < RecallThresholds[ri]) first++;
                precision[ti, ri, k, a, m] = first < nd ? pr[first] : 0;
            }
        }
    }

    /// <summary>numpy's <c>np.spacing(1)</c> (= <c>np.finfo(float).eps</c>), 2⁻⁵², which pycocotools adds to precision's
    /// denominator and voc_eval.py uses as its floor.</summary>
    const double Spacing1 = 2.220446049250313e-16;

    /// <summary>pycocotools' <c>bbIou</c> in float64 from xywh: inter / union, or inter / the detection's area for a crowd.</summary>
    static double CocoIou(DetectedBox d, GroundTruthBox g)
    {
        double w = Math.Min(d.X2, g.X2) - Math.Max(d.X1, g.X1);
        if (w <= 0) return 0;
        double h = Math.Min(d.Y2, g.Y2) - Math.Max(d.Y1, g.Y1);
        if (h <= 0) return 0;
        double inter = w * h;
        double detectionArea = Area(d.X1, d.Y1, d.X2, d.Y2);
        return inter / (g.Crowd ? detectionArea : detectionArea + Area(g.X1, g.Y1, g.X2, g.Y2) - inter);
    }

    /// <summary>Plain IoU in float64 (no +1 on widths); 0 when the union has no area.</summary>
    static double VocIou(DetectedBox d, GroundTruthBox g)
    {
        double w = Math.Max(0, Math.Min(d.X2, g.X2) - Math.Max(d.X1, g.X1));
        double h = Math.Max(0, Math.Min(d.Y2, g.Y2) - Math.Max(d.Y1, g.Y1));
        double inter = w * h, union = Area(d.X1, d.Y1, d.X2, d.Y2) + Area(g.X1, g.Y1, g.X2, g.Y2) - inter;
        return union > 0 ? inter / union : 0;
    }

    static double Area(float x1, float y1, float x2, float y2) => ((double)x2 - x1) * ((double)y2 - y1);

    // ----- Pascal VOC ------------------------------------------------------------------------------------

    /// <summary>
    /// Pascal VOC AP per class (the devkit's <c>VOCevaldet</c> and <c>VOCap</c>): the detections of a class, by
    /// descending score across all images, each take the ground truth of their image they overlap most; IoU ≥
    /// <paramref name="iouThreshold"/> with a difficult one is ignored, with one not yet taken is a true positive, with
    /// one already taken (a duplicate) a false positive, as is any lower IoU. Precision and recall then give the AP by
    /// <paramref name="interpolation"/>.
    /// </summary>
    /// <param name="iouThreshold">in (0, 1]; VOC uses 0.5</param>
    public VocResult Voc(double iouThreshold = 0.5, VocInterpolation interpolation = VocInterpolation.AllPoints)
    {
        if (!(iouThreshold > 0 && iouThreshold <= 1)) throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "DetectionEvaluator.Voc: the IoU threshold must be in (0, 1].");
        if (!Enum.IsDefined(interpolation)) throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, "DetectionEvaluator.Voc: unknown interpolation.");
        var cells = Group();
        var classAp = new double[classes];
        for (int k = 0; k < classes; k++)
        {
            int positives = truths.Count(g => g.Class == k && !g.Difficult);
            if (positives == 0) { classAp[k] = double.NaN; continue; }
            var taken = new Dictionary<int, bool[]>();
            var ranked = detections.Where(d => d.Class == k).Select((d, i) => (d, i))
                .OrderByDescending(p => p.d.Score).ThenBy(p => p.d.Image).ThenBy(p => p.i).Select(p => p.d).ToArray();
            var rec = new double[ranked.Length];
            var prec = new double[ranked.Length];
            double tp = 0, fp = 0;
            for (int i = 0; i < ranked.Length; i++)
            {
                var d = ranked[i];
                var gt = cells.Truths.TryGetValue((d.Image, k), out var list) ? list : [];
                if (!taken.TryGetValue(d.Image, out var imageTaken)) taken[d.Image] = imageTaken = new bool[gt.Count];
                double best = -1;
                int j = -1;
                for (int gi = 0; gi < gt.Count; gi++)
                {
                    double overlap = VocIou(d, gt[gi]);
                    if (overlap > best) (best, j) = (overlap, gi);
                }
                bool hit = j >= 0 && best >= iouThreshold;
                if (hit && gt[j].Difficult) { } // ignored: neither true nor false positive
                else if (hit && !imageTaken[j]) { tp++; imageTaken[j] = true; }
                else fp++; // a miss, or a duplicate of a ground truth already taken
                rec[i] = tp / positives;
                prec[i] = tp / Math.Max(tp + fp, Spacing1);
            }
            classAp[k] = interpolation == VocInterpolation.AllPoints ? AllPointAp(rec, prec) : ElevenPointAp(rec, prec);
        }
        var counted = classAp.Where(ap => !double.IsNaN(ap)).ToArray();
        return new VocResult(counted.Length == 0 ? double.NaN : counted.Average(), classAp, iouThreshold, interpolation);
    }

    /// <summary>VOC2010+: the area under the precision envelope, Σ (r_{i+1} − r_i)·p_{i+1} over the recall changes.</summary>
    internal static double AllPointAp(double[] rec, double[] prec)
    {
        var mrec = new double[rec.Length + 2];
        var mpre = new double[prec.Length + 2];
        rec.CopyTo(mrec, 1);
        prec.CopyTo(mpre, 1);
        mrec[^1] = 1;
        for (int i = mpre.Length - 1; i > 0; i--) mpre[i - 1] = Math.Max(mpre[i - 1], mpre[i]);
        double ap = 0;
        for (int i = 0; i + 1 < mrec.Length; i++)
            if (mrec[i + 1] != mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
        return ap;
    }

    /// <summary>VOC2007: the mean over t = 0, 0.1, …, 1 of the highest precision at recall ≥ t (0 where none).</summary>
    internal static double ElevenPointAp(double[] rec, double[] prec)
    {
        double ap = 0;
        for (int step = 0; step <= 10; step++)
        {
            double t = step / 10.0, p = 0;
            for (int i = 0; i < rec.Length; i++)
                if (rec[i] >= t) p = Math.Max(p, prec[i]);
            ap += p / 11;
        }
        return ap;
    }

    // ----- shared ----------------------------------------------------------------------------------------

    sealed record Cells(int[] Images, Dictionary<(int, int), List<GroundTruthBox>> Truths, Dictionary<(int, int), List<DetectedBox>> Detections);

    /// <summary>The boxes by (image, class), in order of addition, and the images in increasing order.</summary>
    Cells Group()
    {
        var g = new Dictionary<(int, int), List<GroundTruthBox>>();
        var d = new Dictionary<(int, int), List<DetectedBox>>();
        foreach (var box in truths)
        {
            if (!g.TryGetValue((box.Image, box.Class), out var list)) g[(box.Image, box.Class)] = list = [];
            list.Add(box);
        }
        foreach (var box in detections)
        {
            if (!d.TryGetValue((box.Image, box.Class), out var list)) d[(box.Image, box.Class)] = list = [];
            list.Add(box);
        }
        var images = truths.Select(b => b.Image).Concat(detections.Select(b => b.Image)).Distinct().Order().ToArray();
        return new Cells(images, g, d);
    }

    static double[] Linspace(double start, double stop, int count)
    {
        var values = new double[count];
        double step = (stop - start) / (count - 1);
        for (int i = 0; i < count; i++) values[i] = i * step + start;
        values[^1] = stop;
        return values;
    }
}
