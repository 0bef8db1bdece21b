using ConvKit.Vision.Detection;
using ConvKit.Vision.Pretrained;

namespace ConvKit.Vision.Faces;

/// <summary>
/// The pretrained face networks of npm <c>@vladmandic/face-api</c> 1.7.15 (<see cref="PretrainedPackage.FaceApi"/>):
/// the tiny face detector, the 68-point landmark network and the 128-d face encoder, loaded from the package's
/// <c>model/</c> folder. <c>FaceModels.Load()</c> takes them from the <see cref="PretrainedStore"/> (downloading the
/// package on first use). Faces are encoded as face-api.js encodes them after <c>withFaceLandmarks()</c>: the landmarks
/// are found in the detection box, and the encoder is given the square of dlib's alignment
/// (<see cref="FaceLandmarks.AlignedBox"/>) instead of the box.
/// </summary>
public sealed class FaceModels
{
    /// <summary>The detector (face-api.js's tiny face detector).</summary>
    public FaceDetector Detector { get; }

    /// <summary>The encoder (dlib's face ResNet).</summary>
    public FaceEncoder Encoder { get; }

    /// <summary>The 68-point landmark finder, for the encoder's aligned crops.</summary>
    public FaceLandmarker Landmarker { get; }

    /// <summary>The package folder the weights came from.</summary>
    public string PackageDirectory { get; }

    FaceModels(FaceDetector detector, FaceLandmarker landmarker, FaceEncoder encoder, string packageDirectory) =>
        (Detector, Landmarker, Encoder, PackageDirectory) = (detector, landmarker, encoder, packageDirectory);

    /// <summary>The models from <paramref name="store"/> (default: a store with the default cache), fetching the package when it is not cached.</summary>
    public static FaceModels Load(PretrainedStore? store = null, FaceDetectorOptions? detectorOptions = null) =>
        FromPackage((store ?? new PretrainedStore()).Get(PretrainedPackage.FaceApi), detectorOptions);

    /// <summary>The models from an unpacked face-api package folder (the one holding <c>model/</c>).</summary>
    public static FaceModels FromPackage(string packageDirectory, FaceDetectorOptions? detectorOptions = null)
    {
        string model = Path.Combine(packageDirectory, "model");
        var detector = TinyFaceDetectorNetwork.Load(Path.Combine(model, "tiny_face_detector_model-weights_manifest.json"));
        var landmarks = FaceLandmarkNetwork.Load(Path.Combine(model, "face_landmark_68_model-weights_manifest.json"));
        var encoder = FaceEncoderNetwork.Load(Path.Combine(model, "face_recognition_model-weights_manifest.json"));
        return new FaceModels(new FaceDetector(detector, detectorOptions), new FaceLandmarker(landmarks), new FaceEncoder(encoder), packageDirectory);
    }

    /// <summary>The same networks with other detector settings.</summary>
    public FaceModels With(FaceDetectorOptions detectorOptions) => new(new FaceDetector(Detector.Network, detectorOptions), Landmarker, Encoder, PackageDirectory);

    /// <summary>Every face in <paramref name="picture"/> (3, H, W) in [0, 1] with its landmarks and encoding, best detection first.</summary>
    public IReadOnlyList<EncodedFace> DetectAndEncode(Tensor picture) => Encode(picture, Detector.Detect(picture));

    /// <summary>
    /// The faces at <paramref name="boxes"/> (detections, xyxy pixels) encoded from their aligned squares: landmarks found
    /// in each box, the encoder given <see cref="FaceLandmarks.AlignedBox"/>.
    /// </summary>
    public IReadOnlyList<EncodedFace> Encode(Tensor picture, IReadOnlyList<DetectedObject> boxes)
    {
        var landmarks = Landmarker.Detect(picture, boxes);
        var aligned = boxes.Zip(landmarks, (box, points) => points.AlignedBox(box)).ToList();
        var encodings = Encoder.Encode(picture, aligned);
        return [.. boxes.Select((box, i) => new EncodedFace(box, encodings[i], landmarks[i], aligned[i]))];
    }

    /// <summary>
    /// The one face a picture of a single person shows: the largest box found (its area inside the picture).
    /// </summary>
    /// <param name="source">names the picture in the error</param>
    /// <exception cref="InvalidDataException">no face was found</exception>
    public EncodedFace EncodeLargestFace(Tensor picture, string source) => EncodeLargestFace(picture, source, out _);

    /// <summary>As <see cref="EncodeLargestFace(Tensor, string)"/>, saying how many faces were found.</summary>
    public EncodedFace EncodeLargestFace(Tensor picture, string source, out int facesFound)
    {
        var faces = Detector.Detect(picture);
        facesFound = faces.Count;
        if (faces.Count == 0)
            throw new InvalidDataException(
                $"no face found in {source} (tiny face detector at {Detector.Options.InputSize} px, score above {Detector.Options.ScoreThreshold}); " +
                "give a picture where the face is frontal and between about a tenth and a third of the picture's width (close-ups are missed too).");
        int height = picture.Shape[1], width = picture.Shape[2];
        var largest = faces.MaxBy(f => Math.Max(0, Math.Min(f.X2, width) - Math.Max(f.X1, 0)) * Math.Max(0, Math.Min(f.Y2, height) - Math.Max(f.Y1, 0)))!;
        return Encode(picture, [largest])[0];
    }
}

/// <summary>A face found in a picture: its detection (class 0, xyxy pixels), encoding, landmarks and the aligned square the encoding was made from.</summary>
public sealed record EncodedFace(DetectedObject Box, FaceEncoding Encoding, FaceLandmarks Landmarks, DetectedObject AlignedBox);
