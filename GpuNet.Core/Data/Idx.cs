using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace GpuNet.Data;

/// <summary>Images read from an IDX file: row-major bytes [Count, Height, Width].</summary>
public sealed record IdxImages(byte[] Pixels, int Count, int Height, int Width)
{
    /// <summary>Pixels per image (Height × Width).</summary>
    public int FeatureCount => Height * Width;
}

/// <summary>
/// Reads and writes IDX files in the MNIST layout: images as unsigned bytes with 3 dimensions (magic 0x00000803)
/// and labels as unsigned bytes with 1 dimension (magic 0x00000801), sizes big-endian.
/// A file is read as gzip when it starts with the gzip magic bytes 1f 8b, whatever its name.
/// </summary>
/// <remarks>
/// Reading never trusts the header with memory (<see cref="IdxReader"/>): the header is checked before any data is
/// read — the declared size must fit one array and <see cref="DataLimits.MaxIdxBytes"/>, an uncompressed file must
/// hold exactly the declared bytes, a gzip file must be large enough to expand to them — and
/// <see cref="LoadDirectory"/> checks the four headers against each other (images against labels, training image size
/// against test image size) before reading the data of any. Gzip data is decompressed as a stream into a buffer that
/// grows only as real data arrives, and reading stops with an error as soon as the data runs short of, or goes past,
/// what the header declares. The gzip trailer (CRC-32 and size) must match the data, so a file cut inside the trailer,
/// bytes appended after the gzip data, and concatenated gzip members are all rejected. Only regular files are read.
/// Every problem is reported as a <see cref="DataFormatException"/> whose message starts with the file path.
/// </remarks>
public static class Idx
{
    /// <summary>Standard file name of the training images.</summary>
    public const string TrainImagesName = "train-images-idx3-ubyte";
    /// <summary>Standard file name of the training labels.</summary>
    public const string TrainLabelsName = "train-labels-idx1-ubyte";
    /// <summary>Standard file name of the test images.</summary>
    public const string TestImagesName = "t10k-images-idx3-ubyte";
    /// <summary>Standard file name of the test labels.</summary>
    public const string TestLabelsName = "t10k-labels-idx1-ubyte";

    /// <summary>The four standard names, each of which may also carry a ".gz" suffix.</summary>
    public static IReadOnlyList<string> StandardFileNames { get; } =
        [TrainImagesName, TrainLabelsName, TestImagesName, TestLabelsName];

    /// <summary>Environment variable naming a data folder searched for Fashion-MNIST
    /// (itself and its <c>fashion-mnist</c> sub-folder).</summary>
    public const string DataEnvironmentVariable = "GPUNET_DATA";

    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs the four gzip IDX files.</summary>
    public const string FashionMnistSystemDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>Fashion-MNIST class names in label order (from the dataset's README).</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private const uint ImagesMagic = 0x00000803;
    private const uint LabelsMagic = 0x00000801;

    private static readonly float[] ByteToUnit = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>Reads an image file and scales pixels to [0, 1] by dividing by 255.</summary>
    /// <returns>Row-major pixels [Rows, FeatureCount], one row per image, FeatureCount = height × width.</returns>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large.</exception>
    public static (float[] Pixels, int Rows, int FeatureCount) ReadImages(string path, DataLimits? limits = null)
    {
        var images = ReadImageBytes(path, limits);
        return (ToUnit(images.Pixels), images.Count, images.FeatureCount);
    }

    /// <summary>Reads an image file (magic 0x00000803) as raw bytes.</summary>
    /// <param name="path">The file, plain or gzip.</param>
    /// <param name="limits">The most data its header may declare (<see cref="DataLimits.MaxIdxBytes"/>); null:
    /// <see cref="DataLimits.FromEnvironment"/>.</param>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large,
    /// or its images have no pixels.</exception>
    public static IdxImages ReadImageBytes(string path, DataLimits? limits = null)
    {
        var (header, data) = IdxReader.ReadFile(path, 3, limits ?? DataLimits.FromEnvironment());
        CheckImageSize(header);
        return new IdxImages(data, header.Shape[0], header.Shape[1], header.Shape[2]);
    }

    /// <summary>Reads a label file (magic 0x00000801): one unsigned byte per example.</summary>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large.</exception>
    public static byte[] ReadLabels(string path, DataLimits? limits = null) =>
        IdxReader.ReadFile(path, 1, limits ?? DataLimits.FromEnvironment()).Data;

    /// <summary>Writes images [count, height, width] as an IDX file (magic 0x00000803), gzip-compressed when asked.</summary>
    /// <exception cref="ArgumentException">The pixel count is not count × height × width.</exception>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void WriteImages(string path, byte[] pixels, int count, int height, int width, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (count < 0 || height < 0 || width < 0)
            throw new ArgumentException($"image dimensions must be non-negative, got {count} × {height} × {width}");
        if (pixels.Length != (long)count * height * width)
            throw new ArgumentException($"{pixels.Length} pixels are not {count} × {height} × {width}");
        Write(path, ImagesMagic, [count, height, width], pixels, gzip);
    }

    /// <summary>Writes labels as an IDX file (magic 0x00000801), gzip-compressed when asked.</summary>
    /// <exception cref="GpuNetException">The file cannot be written.</exception>
    public static void WriteLabels(string path, byte[] labels, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Write(path, LabelsMagic, [labels.Length], labels, gzip);
    }

    /// <summary>
    /// Loads a directory holding the four standard files (<see cref="StandardFileNames"/>, each plain or with ".gz";
    /// the plain file wins when both exist) as classification datasets with pixels scaled to [0, 1].
    /// </summary>
    /// <param name="directory">The folder holding the files.</param>
    /// <param name="classNames">Class names in label order; when given, their number is the class count and every
    /// label must be below it. Otherwise the class count is the largest label (over both splits) + 1, at least 2,
    /// and classes are named "0", "1", … — 10 for MNIST.</param>
    /// <param name="limits">The most data each header may declare; null: <see cref="DataLimits.FromEnvironment"/>.</param>
    /// <exception cref="DataFormatException">A file is missing or malformed, image and label counts differ, the two
    /// splits have different image sizes, a split is empty, or a label is outside the given classes.</exception>
    public static (Dataset Train, Dataset Test) LoadDirectory(string directory, IReadOnlyList<string>? classNames = null,
        DataLimits? limits = null)
    {
        var paths = FindStandardFiles(directory);
        limits ??= DataLimits.FromEnvironment();
        // Every header first, checked against its file and against each other, before any bulk data is read.
        var headers = paths.Select((p, i) => IdxReader.ReadHeader(p, i % 2 == 0 ? 3 : 1, limits)).ToArray();
        CheckImageSize(headers[0]);
        CheckPair(headers[0], headers[1]);
        CheckImageSize(headers[2]);
        CheckPair(headers[2], headers[3]);
        if (headers[2].Shape[1] != headers[0].Shape[1] || headers[2].Shape[2] != headers[0].Shape[2])
            throw new DataFormatException(
                $"{paths[2]}: images are {headers[2].Shape[1]} × {headers[2].Shape[2]} pixels but the training images in " +
                $"{paths[0]} are {headers[0].Shape[1]} × {headers[0].Shape[2]}");

        var trainLabels = ReadLabels(paths[1], limits);
        var testLabels = ReadLabels(paths[3], limits);
        int classes;
        if (classNames != null)
        {
            classes = classNames.Count;
            CheckLabels(paths[1], trainLabels, classes);
            CheckLabels(paths[3], testLabels, classes);
        }
        else
        {
            int max = Math.Max(trainLabels.DefaultIfEmpty().Max(), testLabels.DefaultIfEmpty().Max());
            classes = Math.Max(2, max + 1);
        }
        var train = ToDataset(ReadImageBytes(paths[0], limits), trainLabels, classes, classNames);
        return (train, ToDataset(ReadImageBytes(paths[2], limits), testLabels, classes, classNames));
    }

    private static string[] FindStandardFiles(string directory)
    {
        if (File.Exists(directory))
            throw new DatasetNotFoundException($"IDX data directory {directory} is a file, not a directory; name the folder holding the four IDX files", [directory]);
        if (!Directory.Exists(directory))
            throw new DatasetNotFoundException($"IDX data directory {directory} does not exist", [directory]);
        var missing = StandardFileNames.Where(n => FindStandardFile(directory, n) == null).ToArray();
        if (missing.Length == StandardFileNames.Count)
            throw new DatasetNotFoundException(
                $"IDX data directory {directory} holds none of the files it needs: {string.Join(", ", StandardFileNames)} (each plain or .gz)", [directory]);
        if (missing.Length > 0)
            throw new DatasetNotFoundException(
                $"IDX data directory {directory} lacks {string.Join(", ", missing)} (plain or .gz); it needs all of " +
                string.Join(", ", StandardFileNames), [directory]);
        return StandardFileNames.Select(n => FindStandardFile(directory, n)!).ToArray();
    }

    /// <summary>The folders <see cref="FindFashionMnist(string?)"/> searches, in order:
    /// <paramref name="dataDir"/> and its <c>fashion-mnist</c> sub-folder (when given), then
    /// <c>$GPUNET_DATA</c> and <c>$GPUNET_DATA/fashion-mnist</c> (when set), then <see cref="FashionMnistSystemDirectory"/>.</summary>
    public static IReadOnlyList<string> FashionMnistSearchPaths(string? dataDir) =>
        FashionMnistSearchPaths(dataDir, Environment.GetEnvironmentVariable(DataEnvironmentVariable), FashionMnistSystemDirectory);

    internal static IReadOnlyList<string> FashionMnistSearchPaths(string? dataDir, string? envDir, string systemDir)
    {
        var places = new List<string>();
        void Add(string? dir)
        {
            if (string.IsNullOrWhiteSpace(dir)) return;
            foreach (var d in new[] { dir, Path.Combine(dir, "fashion-mnist") })
            {
                var full = Path.GetFullPath(d);
                if (!places.Contains(full)) places.Add(full);
            }
        }
        Add(dataDir);
        Add(envDir);
        var sys = Path.GetFullPath(systemDir);
        if (!places.Contains(sys)) places.Add(sys);
        return places;
    }

    /// <summary>
    /// The first folder of <see cref="FashionMnistSearchPaths(string?)"/> that holds all four Fashion-MNIST IDX files
    /// (standard names, plain or .gz).
    /// </summary>
    /// <exception cref="DatasetNotFoundException">No folder holds them; the message lists every place looked at,
    /// what each lacked, and how to install the data.</exception>
    public static string FindFashionMnist(string? dataDir) =>
        FindFashionMnist(dataDir, Environment.GetEnvironmentVariable(DataEnvironmentVariable), FashionMnistSystemDirectory);

    internal static string FindFashionMnist(string? dataDir, string? envDir, string systemDir)
    {
        var places = FashionMnistSearchPaths(dataDir, envDir, systemDir);
        var report = new StringBuilder();
        foreach (var dir in places)
        {
            if (!Directory.Exists(dir))
            {
                report.Append(CultureInfo.InvariantCulture, $"\n  {dir} (does not exist)");
                continue;
            }
            var missing = StandardFileNames.Where(n => FindStandardFile(dir, n) == null).ToArray();
            if (missing.Length == 0) return dir;
            report.Append(CultureInfo.InvariantCulture, $"\n  {dir} (lacks {string.Join(", ", missing)})");
        }
        string env = string.IsNullOrWhiteSpace(envDir) ? $" ({DataEnvironmentVariable} is not set)" : "";
        throw new DatasetNotFoundException(
            $"Fashion-MNIST not found: no folder holds all of {string.Join(", ", StandardFileNames)} (each plain or .gz). " +
            $"Looked in:{report}\n" +
            $"Install the Debian package dataset-fashion-mnist (it puts them in {FashionMnistSystemDirectory}), or download " +
            "the four official gzip IDX files (https://github.com/zalandoresearch/fashion-mnist) into one of these folders, " +
            $"or pass the folder holding them as the data directory (dataDir), or set {DataEnvironmentVariable} to it{env}.",
            places) { Settings = ["dataDir"] };
    }

    /// <summary>Fashion-MNIST from the first folder <see cref="FindFashionMnist(string?)"/> finds:
    /// 60000 training and 10000 test images of 28 × 28 pixels in [0, 1], 10 named classes.</summary>
    public static (Dataset Train, Dataset Test) LoadFashionMnist(string? dataDir, DataLimits? limits = null) =>
        LoadDirectory(FindFashionMnist(dataDir), FashionMnistClassNames, limits);

    private static string? FindStandardFile(string directory, string name)
    {
        var plain = Path.Combine(directory, name);
        if (File.Exists(plain)) return plain;
        var gz = plain + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    private static void CheckPair(IdxHeader images, IdxHeader labels)
    {
        if (images.Shape[0] != labels.Shape[0])
            throw new DataFormatException(
                $"{images.Path} holds {images.Shape[0]} images but {labels.Path} holds {labels.Shape[0]} labels; they must match");
        if (images.Shape[0] == 0)
            throw new DataFormatException($"{images.Path} holds no images");
    }

    private static void CheckImageSize(IdxHeader h)
    {
        int height = h.Shape[1], width = h.Shape[2];
        if (height == 0 || width == 0)
            throw new DataFormatException($"{h.Path}: the header declares images of {height} × {width} pixels; an image needs at least one pixel");
        if ((long)height * width > Array.MaxLength)
            throw new DataFormatException($"{h.Path}: images of {height} × {width} pixels are larger than one array can hold ({Array.MaxLength} elements)");
    }

    private static void CheckLabels(string path, byte[] labels, int classes)
    {
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classes)
                throw new DataFormatException($"{path}: label {labels[i]} of example {i} is outside the {classes} classes [0, {classes})");
    }

    private static Dataset ToDataset(IdxImages images, byte[] labels, int classes, IReadOnlyList<string>? names) =>
        Dataset.Classification(ToUnit(images.Pixels), images.FeatureCount, Array.ConvertAll(labels, b => (int)b), classes, names);

    private static float[] ToUnit(byte[] pixels)
    {
        var result = new float[pixels.Length];
        var table = ByteToUnit;
        for (int i = 0; i < pixels.Length; i++) result[i] = table[pixels[i]];
        return result;
    }

    private static void Write(string path, uint magic, int[] shape, byte[] data, bool gzip)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            using Stream s = gzip ? new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true) : file;
            Span<byte> header = stackalloc byte[4 + 4 * shape.Length];
            BinaryPrimitives.WriteUInt32BigEndian(header, magic);
            for (int i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header[(4 + 4 * i)..], shape[i]);
            s.Write(header);
            s.Write(data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GpuNetException($"cannot write {path}: {e.Message}", e);
        }
    }
}
