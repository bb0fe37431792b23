namespace GpuNet.Data;

/// <summary>
/// Values appended in chunks of fixed size, so that collecting rows of unknown number never copies what was already
/// read (a doubling list holds up to three times its data while it grows; here only the first chunk grows, up to the
/// chunk size) and never allocates far ahead of the data: at most one chunk more than the values held.
/// <see cref="ToArray"/> copies once into an array of the exact size.
/// </summary>
internal sealed class ChunkedBuffer<T>
{
    private const int ChunkLength = 1 << 16;
    private readonly List<T[]> _chunks = [];
    private int _used = ChunkLength; // values in the last chunk

    /// <summary>Values held.</summary>
    public long Count { get; private set; }

    /// <summary>Appends one value.</summary>
    public void Add(T value)
    {
        if (_used == ChunkLength)
        {
            // The first chunk starts small, so a file of a few rows costs a few bytes.
            _chunks.Add(new T[_chunks.Count == 0 ? 64 : ChunkLength]);
            _used = 0;
        }
        else if (_chunks.Count == 1 && _used == _chunks[0].Length)
        {
            var grown = new T[Math.Min(ChunkLength, 4 * _used)];
            Array.Copy(_chunks[0], grown, _used);
            _chunks[0] = grown;
        }
        _chunks[^1][_used++] = value;
        Count++;
    }

    /// <summary>Appends every value of <paramref name="values"/>.</summary>
    public void AddRange(ReadOnlySpan<T> values)
    {
        foreach (var v in values) Add(v);
    }

    /// <summary>Value <paramref name="i"/>.</summary>
    public T this[long i] => _chunks[(int)(i / ChunkLength)][i % ChunkLength];

    /// <summary>The values of the rows <paramref name="keep"/> marks (all when null), each row
    /// <paramref name="width"/> values, in order, in one array.</summary>
    public T[] ToArray(int width = 1, bool[]? keep = null, int kept = -1)
    {
        long rows = Count / width;
        var result = new T[(keep == null ? rows : kept) * width];
        if (keep == null)
        {
            long at = 0;
            foreach (var chunk in _chunks)
            {
                int n = (int)Math.Min(chunk.Length, result.Length - at);
                if (n <= 0) break;
                Array.Copy(chunk, 0, result, at, n);
                at += n;
            }
            return result;
        }
        long o = 0;
        for (long r = 0; r < rows; r++)
        {
            if (!keep[r]) continue;
            for (long k = r * width; k < (r + 1) * width; k++) result[o++] = this[k];
        }
        return result;
    }
}
