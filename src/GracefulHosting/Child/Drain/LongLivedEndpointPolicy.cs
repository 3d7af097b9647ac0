using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;

namespace GracefulHosting.Child.Drain;

// Routing asks this policy only for paths where a [LongLived] endpoint is a candidate, so other requests pay nothing for it.
internal sealed class LongLivedEndpointPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    private readonly LongLivedConnections _connections;
    private readonly ConditionalWeakTable<Endpoint, Endpoint> _tracked = [];

    public LongLivedEndpointPolicy(LongLivedConnections connections) => _connections = connections;

    // After every other policy, so that the endpoint replaced here is the one that runs.
    public override int Order => int.MaxValue;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        ContainsDynamicEndpoints(endpoints) || endpoints.Any(IsMarked);

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        for (int i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && candidates[i].Endpoint is { } endpoint && IsMarked(endpoint))
            {
                candidates.ReplaceEndpoint(i, _tracked.GetValue(endpoint, Track), candidates[i].Values);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsMarked(Endpoint endpoint) =>
        endpoint.RequestDelegate is not null && endpoint.Metadata.GetMetadata<LongLivedAttribute>() is not null;

    private Endpoint Track(Endpoint endpoint)
    {
        var original = endpoint.RequestDelegate!;
        RequestDelegate tracked = context => _connections.RunMarkedAsync(context, original);
        return endpoint is RouteEndpoint route
            ? new RouteEndpoint(tracked, route.RoutePattern, route.Order, route.Metadata, route.DisplayName)
            : new Endpoint(tracked, endpoint.Metadata, endpoint.DisplayName);
    }
}
