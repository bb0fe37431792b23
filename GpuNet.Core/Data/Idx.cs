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
/// Reading never trusts the header with memory: the declared element count must fit one array
/// (at most <see cref="Array.MaxLength"/>); an uncompressed file must hold exactly the declared bytes before anything
/// is allocated; gzip data is decompressed as a stream into a buffer that grows only as real data arrives, and
/// reading stops with an error as soon as the data runs short of, or goes past, what the header declares.
/// The gzip trailer (CRC-32 and size) must match the data, so a file cut inside the trailer, bytes appended after the
/// gzip data, and concatenated gzip members are all rejected.
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
    private const int FirstGzipChunk = 1 << 20;

    private static readonly float[] ByteToUnit = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>Reads an image file and scales pixels to [0, 1] by dividing by 255.</summary>
    /// <returns>Row-major pixels [Rows, FeatureCount], one row per image, FeatureCount = height × width.</returns>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large.</exception>
    public static (float[] Pixels, int Rows, int FeatureCount) ReadImages(string path)
    {
        var images = ReadImageBytes(path);
        return (ToUnit(images.Pixels), images.Count, images.FeatureCount);
    }

    /// <summary>Reads an image file (magic 0x00000803) as raw bytes.</summary>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large,
    /// or its images have no pixels.</exception>
    public static IdxImages ReadImageBytes(string path)
    {
        var data = ReadIdx(path, 3, "images", out var shape);
        int count = shape[0], height = shape[1], width = shape[2];
        if (height == 0 || width == 0)
            throw Fail(path, $"the header declares images of {height} × {width} pixels; an image needs at least one pixel");
        if ((long)height * width > Array.MaxLength)
            throw Fail(path, $"images of {height} × {width} pixels are larger than one array can hold ({Array.MaxLength} elements)");
        return new IdxImages(data, count, height, width);
    }

    /// <summary>Reads a label file (magic 0x00000801): one unsigned byte per example.</summary>
    /// <exception cref="DataFormatException">The file is missing, malformed, truncated or too large.</exception>
    public static byte[] ReadLabels(string path) => ReadIdx(path, 1, "labels", out _);

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
    /// <exception cref="DataFormatException">A file is missing or malformed, image and label counts differ, the two
    /// splits have different image sizes, a split is empty, or a label is outside the given classes.</exception>
    public static (Dataset Train, Dataset Test) LoadDirectory(string directory, IReadOnlyList<string>? classNames = null)
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
        var paths = StandardFileNames.Select(n => FindStandardFile(directory, n)!).ToArray();

        var trainImages = ReadImageBytes(paths[0]);
        var trainLabels = ReadLabels(paths[1]);
        CheckPair(paths[0], trainImages, paths[1], trainLabels);
        var testImages = ReadImageBytes(paths[2]);
        var testLabels = ReadLabels(paths[3]);
        CheckPair(paths[2], testImages, paths[3], testLabels);
        if (testImages.Height != trainImages.Height || testImages.Width != trainImages.Width)
            throw new DataFormatException(
                $"{paths[2]}: images are {testImages.Height} × {testImages.Width} pixels but the training images in " +
                $"{paths[0]} are {trainImages.Height} × {trainImages.Width}");

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
        return (ToDataset(trainImages, trainLabels, classes, classNames),
                ToDataset(testImages, testLabels, classes, classNames));
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
            $"or point --data-dir or {DataEnvironmentVariable} at the folder holding them{env}.",
            places);
    }

    /// <summary>Fashion-MNIST from the first folder <see cref="FindFashionMnist(string?)"/> finds:
    /// 60000 training and 10000 test images of 28 × 28 pixels in [0, 1], 10 named classes.</summary>
    public static (Dataset Train, Dataset Test) LoadFashionMnist(string? dataDir) =>
        LoadDirectory(FindFashionMnist(dataDir), FashionMnistClassNames);

    private static string? FindStandardFile(string directory, string name)
    {
        var plain = Path.Combine(directory, name);
        if (File.Exists(plain)) return plain;
        var gz = plain + ".gz";
        return File.Exists(gz) ? gz : null;
    }

    private static void CheckPair(string imagesPath, IdxImages images, string labelsPath, byte[] labels)
    {
        if (images.Count != labels.Length)
            throw new DataFormatException(
                $"{imagesPath} holds {images.Count} images but {labelsPath} holds {labels.Length} labels; they must match");
        if (images.Count == 0)
            throw new DataFormatException($"{imagesPath} holds no images");
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

    private static DataFormatException Fail(string path, string problem) => new($"{path}: {problem}");

    private static string Describe(uint magic)
    {
        if (magic == ImagesMagic) return " (an unsigned-byte image file)";
        if (magic == LabelsMagic) return " (an unsigned-byte label file)";
        if (magic >> 16 == 0x1f8b) return " (gzip magic inside the data: compressed twice?)";
        return "";
    }

    private static string? TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => null,
    };

    private static byte[] ReadIdx(string path, int dims, string kind, out int[] shape)
    {
        FileStream file = DataFiles.Open(path);
        using (file)
        {
            try
            {
                return ReadIdx(file, path, dims, kind, out shape);
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException($"{path}: corrupt gzip stream: {e.Message}", e);
            }
            catch (EndOfStreamException e)
            {
                throw new DataFormatException($"{path}: truncated: {e.Message}", e);
            }
            catch (IOException e)
            {
                throw new DataFormatException($"{path}: cannot read: {e.Message}", e);
            }
        }
    }

    private static byte[] ReadIdx(FileStream file, string path, int dims, string kind, out int[] shape)
    {
        long fileLength = file.Length;
        var gz = CheckedGzipStream.StartsWithGzipMagic(file) ? new CheckedGzipStream(file, verifyAtEnd: false) : null;
        bool gzip = gz != null;
        using Stream s = (Stream?)gz ?? file;
        string source = gzip ? "decompressed data" : "file";
        int headerBytes = 4 + 4 * dims;

        Span<byte> header = stackalloc byte[headerBytes];
        int n = ReadAtMost(s, header[..4]);
        if (n < 4)
            throw Fail(path, $"truncated: the {source} ends after {n} bytes, inside the 4-byte IDX magic number");
        uint expected = 0x0800u | (uint)dims;
        uint found = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (found != expected)
        {
            if (header[0] == 0 && header[1] == 0 && header[3] == dims)
            {
                var typeName = TypeName(header[2]);
                throw Fail(path, typeName != null
                    ? $"unsupported IDX data type 0x{header[2]:X2} ({typeName}) in magic number 0x{found:X8}; only 0x08 (unsigned byte) is supported"
                    : $"unknown IDX data type byte 0x{header[2]:X2} in magic number 0x{found:X8}; only 0x08 (unsigned byte) is supported");
            }
            throw Fail(path, $"wrong magic number 0x{found:X8}{Describe(found)}, expected 0x{expected:X8} for {kind} " +
                             $"(unsigned bytes, {dims} dimension{(dims == 1 ? "" : "s")})");
        }

        n = ReadAtMost(s, header[4..]);
        if (n < 4 * dims)
            throw Fail(path, $"truncated: the {source} ends after {4 + n} bytes, inside the {headerBytes}-byte {kind} header");
        shape = new int[dims];
        UInt128 product = 1;
        for (int i = 0; i < dims; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * i)..]);
            if (d > int.MaxValue)
                throw Fail(path, $"dimension {i} of the header is {d}, larger than {int.MaxValue}");
            shape[i] = (int)d;
            product *= d;
        }
        string shapeText = string.Join(" × ", shape);
        if (product > (UInt128)Array.MaxLength)
            throw Fail(path, $"the header declares {shapeText} = {product} bytes of data, more than one array can hold ({Array.MaxLength})");
        int declared = (int)product;

        if (!gzip)
        {
            long available = fileLength - headerBytes;
            if (available < declared)
                throw Fail(path, $"truncated: the header declares {shapeText} = {declared} bytes of data but only {available} follow the {headerBytes}-byte header");
            if (available > declared)
                throw Fail(path, $"{available - declared} trailing bytes after the {declared} bytes of data the header declares ({shapeText})");
            var data = new byte[declared];
            s.ReadExactly(data);
            return data;
        }

        // Grow with the data actually decompressed, so a lying header costs at most twice what the stream holds.
        var buffer = new byte[Math.Min(declared, FirstGzipChunk)];
        int filled = 0;
        while (filled < declared)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(declared, 2L * buffer.Length));
            int r = s.Read(buffer, filled, buffer.Length - filled);
            if (r == 0)
                throw Fail(path, $"truncated: the gzip data ends after {filled} of the {declared} bytes of data the header declares ({shapeText})");
            filled += r;
        }
        Span<byte> probe = stackalloc byte[4096];
        long extra = 0;
        while (extra < FirstGzipChunk)
        {
            int r = s.Read(probe);
            if (r == 0) break;
            extra += r;
        }
        if (extra > 0)
            throw Fail(path, $"{(extra >= FirstGzipChunk ? "at least " : "")}{extra} trailing bytes after the {declared} bytes of data the header declares ({shapeText})");
        gz!.Verify();
        return buffer;
    }

    private static int ReadAtMost(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int r = s.Read(buffer[total..]);
            if (r == 0) break;
            total += r;
        }
        return total;
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
