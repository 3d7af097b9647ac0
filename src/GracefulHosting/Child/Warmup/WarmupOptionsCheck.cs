namespace GracefulHosting.Child.Warmup;

internal static class WarmupOptionsCheck
{
    private const int MaxRepeat = 100;

    // The warm-up frames its requests itself.
    private static readonly string[] ReservedHeaders = ["Content-Length", "Transfer-Encoding", "Connection"];

    public static void Check(GracefulRestartOptions options, List<string> failures)
    {
        string section = GracefulRestartOptions.SectionName;
        if (options.WarmupPath is { Length: > 0 } path && !IsPath(path))
        {
            failures.Add($"{section}:{nameof(options.WarmupPath)} must be a path that starts with '/' and has no spaces (was '{path}').");
        }

        var requests = options.Warmup.Requests;
        if (requests.Count > 0 && options.WarmupPath is not null)
        {
            failures.Add($"{section}:{nameof(options.WarmupPath)} cannot be set together with {section}:Warmup:Requests (was '{options.WarmupPath}'); " +
                "list that path as one of the requests instead.");
        }

        for (int i = 0; i < requests.Count; i++)
        {
            CheckRequest(WarmupRequest.KeyOf(i), requests[i], failures);
        }
    }

    private static void CheckRequest(string key, GracefulRestartWarmupRequest request, List<string> failures)
    {
        if (string.IsNullOrEmpty(request.Method) || !request.Method.All(char.IsAsciiLetter))
        {
            failures.Add($"{key}:Method must be an HTTP method such as GET or POST (was '{request.Method}').");
        }

        if (request.Path is null || !IsPath(request.Path))
        {
            failures.Add($"{key}:Path must be a path and query that starts with '/' and has no spaces (was '{request.Path}').");
        }

        if (StatusClass.Parse(request.ExpectedStatus) is null)
        {
            failures.Add($"{key}:ExpectedStatus must be 2xx, 3xx, 4xx or 5xx (was '{request.ExpectedStatus}').");
        }

        if (request.Repeat is < 1 or > MaxRepeat)
        {
            failures.Add($"{key}:Repeat must be from 1 to {MaxRepeat} (was '{request.Repeat}').");
        }

        foreach (var (name, value) in request.Headers)
        {
            if (name.Length == 0 || !name.All(IsTokenChar))
            {
                failures.Add($"{key}:Headers:{name} is not a valid header name (was '{name}').");
            }
            else if (ReservedHeaders.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                failures.Add($"{key}:Headers:{name} cannot be set: the warm-up frames its own requests (was '{name}').");
            }

            // The value may be a secret: name the key and the bad part, never the whole value.
            if (value is null || value.Any(char.IsControl))
            {
                failures.Add($"{key}:Headers:{name} must not hold line breaks or control characters (was a value of {value?.Length ?? 0} characters).");
            }
            else if (HeaderTemplate.Check(value) is { } error)
            {
                failures.Add($"{key}:Headers:{name}: {error}.");
            }
        }
    }

    private static bool IsPath(string path) => path.StartsWith('/') && !path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
