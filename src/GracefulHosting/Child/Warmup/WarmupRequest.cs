using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace GracefulHosting.Child.Warmup;

/// <summary>
/// One warm-up request with its headers filled in. <paramref name="Key"/> is the configuration key it
/// came from, to name it in messages; <paramref name="ExpectedClass"/> is the first digit of the status
/// it must get (2 for 2xx), or null when any status will do.
/// </summary>
internal sealed record WarmupRequest(string Key, string Method, string Target, IReadOnlyList<KeyValuePair<string, string>> Headers, int? ExpectedClass, int Repeat)
{
    private const int WarmupPathRepeat = 2;

    /// <summary>How the request is named in logs: its target, with the method unless it is GET.</summary>
    public string Description => Method == "GET" ? Target : $"{Method} {Target}";

    /// <summary>
    /// The requests <paramref name="options"/> ask for: the <c>Warmup:Requests</c> list, or else two GETs
    /// of <see cref="GracefulRestartOptions.WarmupPath"/> that accept any status (none when it is empty).
    /// Header values are filled in from <paramref name="configuration"/> and <paramref name="environment"/>;
    /// a part that is not set throws <see cref="WarmupFailedException"/> naming the header's key.
    /// </summary>
    public static IReadOnlyList<WarmupRequest> FromOptions(GracefulRestartOptions options, IConfiguration configuration, Func<string, string?> environment)
    {
        var listed = options.Warmup.Requests;
        if (listed.Count == 0)
        {
            string path = options.WarmupPath ?? GracefulRestartOptions.DefaultWarmupPath;
            return path.Length == 0
                ? []
                : [new WarmupRequest($"{GracefulRestartOptions.SectionName}:{nameof(options.WarmupPath)}", "GET", path, [], null, WarmupPathRepeat)];
        }

        var requests = new List<WarmupRequest>(listed.Count);
        for (int i = 0; i < listed.Count; i++)
        {
            var request = listed[i];
            string key = KeyOf(i);
            var headers = new List<KeyValuePair<string, string>>(request.Headers.Count);
            foreach (var (name, template) in request.Headers)
            {
                var (value, error) = HeaderTemplate.Resolve(template, configuration, environment);
                if (error is not null)
                {
                    throw new WarmupFailedException($"{key}:Headers:{name}: {error}");
                }

                headers.Add(new(name, value!));
            }

            requests.Add(new WarmupRequest(key, request.Method.ToUpperInvariant(), request.Path, headers,
                StatusClass.Parse(request.ExpectedStatus), request.Repeat));
        }

        return requests;
    }

    /// <summary>The configuration key of the request at <paramref name="index"/> of the list.</summary>
    public static string KeyOf(int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{GracefulRestartOptions.SectionName}:Warmup:Requests:{index}");

    /// <summary>Each request repeated as often as it asks, in order: one entry per response to expect.</summary>
    public static IReadOnlyList<WarmupRequest> Expand(IReadOnlyList<WarmupRequest> requests) =>
        [.. requests.SelectMany(r => Enumerable.Repeat(r, r.Repeat))];

    /// <summary>
    /// Null when every response has the status its request expects; otherwise what went wrong, naming
    /// the request and the status (or the missing response).
    /// </summary>
    public static string? Check(IReadOnlyList<WarmupRequest> expanded, IReadOnlyList<int> statuses)
    {
        for (int i = 0; i < expanded.Count; i++)
        {
            var request = expanded[i];
            if (request.ExpectedClass is not { } expected)
            {
                continue;
            }

            if (i >= statuses.Count)
            {
                return $"{request.Key} ({request.Method} {request.Target}) got no response; expected {expected}xx";
            }

            if (statuses[i] / 100 != expected)
            {
                return $"{request.Key} ({request.Method} {request.Target}) answered {statuses[i]}; expected {expected}xx";
            }
        }

        return null;
    }
}
