using System.Text;

namespace Voting.Sealing.Export;

/// <summary>
/// Reads RFC 4180 records strictly, as <see cref="BallotsCsv"/> writes them: fields separated by commas, records
/// ended by CRLF (the last one too), a field quoted when it holds a comma, a quote or a line break. Anything else is
/// a <see cref="CsvFormatException"/> naming the line.
/// </summary>
public sealed class CsvRecordReader(TextReader reader)
{
    private readonly StringBuilder _field = new();

    /// <summary>The number of the line the last record started on (the header is line 1).</summary>
    public long Line { get; private set; }

    private long _nextLine = 1;

    /// <summary>The next record's fields, or null at the end of the file.</summary>
    public List<string>? Read()
    {
        var c = reader.Read();
        if (c == -1)
        {
            return null;
        }

        Line = _nextLine;
        var fields = new List<string>(4);
        while (true)
        {
            _field.Clear();
            if (c == '"')
            {
                while (true)
                {
                    c = reader.Read();
                    if (c == -1)
                    {
                        throw new CsvFormatException(Line, "a quoted field is not closed");
                    }

                    if (c == '"')
                    {
                        c = reader.Read();
                        if (c != '"')
                        {
                            break;
                        }
                    }
                    else if (c == '\n')
                    {
                        _nextLine++;
                    }

                    _field.Append((char)c);
                }

                if (c is not (',' or '\r'))
                {
                    throw new CsvFormatException(Line, "a quoted field is followed by something other than a comma or the line's end");
                }
            }
            else
            {
                while (c is not (',' or '\r' or -1))
                {
                    if (c is '"' or '\n')
                    {
                        throw new CsvFormatException(Line, c == '"'
                            ? "a quote inside an unquoted field"
                            : "the line ends with LF alone (lines end with CRLF)");
                    }

                    _field.Append((char)c);
                    c = reader.Read();
                }
            }

            fields.Add(_field.ToString());
            if (c == ',')
            {
                c = reader.Read();
                continue;
            }

            if (c == -1 || reader.Read() != '\n')
            {
                throw new CsvFormatException(Line, "the line does not end with CRLF");
            }

            _nextLine++;
            return fields;
        }
    }
}

/// <summary>ballots.csv is not RFC 4180 as the export writes it, at <see cref="Line"/>.</summary>
public sealed class CsvFormatException(long line, string message) : Exception(message)
{
    public long Line { get; } = line;
}
