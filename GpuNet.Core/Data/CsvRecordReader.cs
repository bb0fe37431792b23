namespace GpuNet.Data;

/// <summary>
/// Splits CSV text into records (RFC 4180, minimally): cells separated by commas; a cell starting with a double quote
/// runs to the matching closing quote and may hold commas, line breaks and doubled quotes (""); records end at LF, CRLF
/// or CR. Unquoted cells are trimmed of spaces and tabs; quoted cells are kept as written. Blank lines are skipped.
/// </summary>
internal sealed class CsvRecordReader
{
    private readonly TextReader _reader;
    private readonly string _source;
    private readonly char[] _buffer = new char[1 << 16];
    private int _position, _length;
    private int _line = 1;
    private char[] _record = new char[256];
    private int _recordLength;
    private readonly List<(int Start, int Length)> _cells = [];

    public CsvRecordReader(TextReader reader, string source)
    {
        _reader = reader;
        _source = source;
    }

    /// <summary>1-based line on which the current record starts.</summary>
    public int Line { get; private set; }

    /// <summary>Cells in the current record.</summary>
    public int Count => _cells.Count;

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
            _cells.Clear();
            _recordLength = 0;
            if (Peek() < 0) return false;
            Line = _line;
            bool quoted = false;
            while (true)
            {
                int start = _recordLength;
                int c = Peek();
                if (c == '"')
                {
                    quoted = true;
                    int openLine = _line;
                    Next();
                    while (true)
                    {
                        c = Next();
                        if (c < 0)
                            throw new DataFormatException(
                                $"{_source}: line {openLine}, column {_cells.Count + 1}: the quoted cell opened here is never closed (the file ends inside it)");
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
                    _cells.Add((start, _recordLength - start));
                    while (Peek() is ' ' or '\t') Next();
                    c = Peek();
                    if (c is not (',' or '\r' or '\n' or -1))
                        throw new DataFormatException(
                            $"{_source}: line {_line}, column {_cells.Count}: unexpected '{(char)c}' after the closing quote of a quoted cell " +
                            "(inside a quoted cell, write a double quote as \"\")");
                }
                else
                {
                    while (true)
                    {
                        c = Peek();
                        if (c is ',' or '\r' or '\n' or -1) break;
                        Append((char)Next());
                    }
                    int s = start, e = _recordLength;
                    while (s < e && _record[s] is ' ' or '\t') s++;
                    while (e > s && _record[e - 1] is ' ' or '\t') e--;
                    _cells.Add((s, e - s));
                }
                c = Next();
                if (c == ',') continue;
                if (c == '\r')
                {
                    if (Peek() == '\n') Next();
                    _line++;
                }
                else if (c == '\n') _line++;
                break;
            }
            if (_cells.Count == 1 && !quoted && _cells[0].Length == 0) continue;
            return true;
        }
    }

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
        if (c >= 0) _position++;
        return c;
    }

    private void Append(char c)
    {
        if (_recordLength == _record.Length)
        {
            if (_record.Length > Array.MaxLength / 2)
                throw new DataFormatException($"{_source}: line {Line}: a record longer than {Array.MaxLength / 2} characters");
            Array.Resize(ref _record, _record.Length * 2);
        }
        _record[_recordLength++] = c;
    }
}
