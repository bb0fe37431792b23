namespace GpuNet.Data;

/// <summary>
/// Splits CSV text into records (RFC 4180, minimally): cells separated by one separator character (a comma unless
/// told otherwise); a cell starting with a double quote runs to the matching closing quote and may hold separators,
/// line breaks and doubled quotes (""); records end at LF, CRLF or CR. Unquoted cells are trimmed of spaces and tabs
/// (tabs only when they do not separate); quoted cells are kept as written. Blank lines are skipped.
/// </summary>
/// <remarks>Memory is bounded by <see cref="DataLimits"/>: a record longer than <see cref="DataLimits.MaxLineLength"/>
/// characters (everything it spans, separators included) or a cell longer than <see cref="DataLimits.MaxCellLength"/>
/// stops the read with an error naming the line, before more is held.</remarks>
internal sealed class CsvRecordReader
{
    private readonly TextReader _reader;
    private readonly string _source;
    private readonly char _separator;
    private readonly int _maxRecord, _maxCell;
    private readonly char[] _buffer = new char[1 << 16];
    private int _position, _length;
    private int _line = 1;
    private char[] _record = new char[256];
    private int _recordLength, _cellStart;
    private long _consumed; // characters taken since the record started
    private (int Start, int Length)[] _cells = new (int, int)[16];
    private int _cellCount;

    public CsvRecordReader(TextReader reader, string source, char separator = ',', DataLimits? limits = null)
    {
        _reader = reader;
        _source = source;
        _separator = separator;
        limits ??= new DataLimits();
        _maxRecord = limits.MaxLineLength;
        _maxCell = limits.MaxCellLength;
    }

    /// <summary>1-based line on which the current record starts.</summary>
    public int Line { get; private set; }

    /// <summary>Cells in the current record.</summary>
    public int Count => _cellCount;

    /// <summary>The separator the text is read with.</summary>
    public char Separator => _separator;

    /// <summary>Once set, a record with more cells is an error as soon as the extra cell starts (so that a long line
    /// of separators holds no more than this many cells), naming the line the count comes from.</summary>
    public (int Cells, int Line)? Expected { get; set; }

    /// <summary>Cell <paramref name="i"/> of the current record.</summary>
    public ReadOnlySpan<char> this[int i] => _record.AsSpan(_cells[i].Start, _cells[i].Length);

    /// <summary>Cell <paramref name="i"/> as a string.</summary>
    public string Text(int i) => new(this[i]);

    /// <summary>Every cell of the current record.</summary>
    public string[] Cells()
    {
        var r = new string[Count];
        for (int i = 0; i < r.Length; i++) r[i] = Text(i);
        return r;
    }

    /// <summary>Moves to the next non-blank record; false at the end of the text.</summary>
    public bool Read()
    {
        while (true)
        {
            _cellCount = 0;
            _recordLength = 0;
            _consumed = 0;
            if (Peek() < 0) return false;
            Line = _line;
            bool quoted = false;
            while (true)
            {
                _cellStart = _recordLength;
                if (Peek() == '"')
                {
                    quoted = true;
                    ReadQuotedCell();
                }
                else ReadPlainCell();
                int c = Next();
                if (c == _separator)
                {
                    if (Expected is { } x && _cellCount == x.Cells)
                        throw new DataFormatException($"{_source}: line {Line}: more than {DataFiles.Count(x.Cells, "cell")}, expected {x.Cells} as on line {x.Line}");
                    continue;
                }
                if (c == '\r')
                {
                    if (Peek() == '\n') Next();
                    _line++;
                }
                else if (c == '\n') _line++;
                break;
            }
            if (_cellCount == 1 && !quoted && _cells[0].Length == 0) continue;
            return true;
        }
    }

    private void ReadPlainCell()
    {
        while (true)
        {
            int c = Peek();
            if (c == _separator || c is '\r' or '\n' or -1) break;
            Append((char)Next());
        }
        int s = _cellStart, e = _recordLength;
        while (s < e && IsBlank(_record[s])) s++;
        while (e > s && IsBlank(_record[e - 1])) e--;
        AddCell(s, e - s);
    }

    private void ReadQuotedCell()
    {
        int openLine = _line;
        Next();
        while (true)
        {
            int c = Next();
            if (c < 0)
                throw new DataFormatException(
                    $"{_source}: line {openLine}, column {_cellCount + 1}: the quoted cell opened here is never closed (the file ends inside it)");
            if (c == '"')
            {
                if (Peek() != '"') break;
                Next();
            }
            else if (c == '\n') _line++;
            else if (c == '\r')
            {
                _line++;
                if (Peek() == '\n')
                {
                    Append('\r');
                    c = Next();
                }
            }
            Append((char)c);
        }
        AddCell(_cellStart, _recordLength - _cellStart);
        while (Peek() is ' ' or '\t' && Peek() != _separator) Next();
        int after = Peek();
        if (after != _separator && after is not ('\r' or '\n' or -1))
            throw new DataFormatException(
                $"{_source}: line {_line}, column {_cellCount}: unexpected '{GpuNet.IO.JsonValues.Shown(((char)after).ToString())}' after the closing quote of a quoted cell " +
                "(inside a quoted cell, write a double quote as \"\")");
    }

    private void AddCell(int start, int length)
    {
        // Grown by doubling up to the most cells a record within the limit can have, never past it.
        if (_cellCount == _cells.Length) Array.Resize(ref _cells, (int)Math.Min(2L * _cells.Length, _maxRecord + 1L));
        _cells[_cellCount++] = (start, length);
    }

    private bool IsBlank(char c) => (c == ' ' || c == '\t') && c != _separator;

    private int Peek()
    {
        if (_position == _length)
        {
            _length = _reader.Read(_buffer, 0, _buffer.Length);
            _position = 0;
            if (_length <= 0)
            {
                _length = 0;
                return -1;
            }
        }
        return _buffer[_position];
    }

    private int Next()
    {
        int c = Peek();
        if (c < 0) return c;
        _position++;
        if (++_consumed > _maxRecord)
            throw new DataFormatException(
                $"{_source}: line {Line}: the line is longer than {_maxRecord} characters, the limit " +
                $"({DataLimits.HowToRaise(nameof(DataLimits.MaxLineLength), DataLimits.LineLengthVariable)}); is this a CSV file?");
        return c;
    }

    private void Append(char c)
    {
        if (_recordLength - _cellStart == _maxCell)
            throw new DataFormatException(
                $"{_source}: line {Line}, column {_cellCount + 1}: the cell is longer than {_maxCell} characters, the limit " +
                $"({DataLimits.HowToRaise(nameof(DataLimits.MaxCellLength), DataLimits.CellLengthVariable)})");
        if (_recordLength == _record.Length) Array.Resize(ref _record, (int)Math.Min(2L * _record.Length, _maxRecord));
        _record[_recordLength++] = c;
    }
}
