%% The three-state ring of statem_event_state_timeout for the scaling runs: arms its state timeout at start too
%% (every machine holds a live timer while it is measured) and counts each handled event down on a shared
%% atomics counter; the event that reaches zero tells the collector. (CountedRing on the Swift side.)
-module(ss_ring).
-behaviour(gen_statem).
-export([start/3, init/1, callback_mode/0, handle_event/4]).

start(TimeoutMs, Counter, Collector) -> gen_statem:start(?MODULE, {TimeoutMs, Counter, Collector}, []).

callback_mode() -> handle_event_function.

init({TimeoutMs, _, _} = D) -> {ok, a, D, [{state_timeout, TimeoutMs, tick}]}.

handle_event(cast, step, S, {TimeoutMs, Counter, Collector} = D) ->
    case atomics:sub_get(Counter, 1, 1) of
        0 -> Collector ! all_handled;
        _ -> ok
    end,
    {next_state, next(S), D, [{state_timeout, TimeoutMs, tick}]};
handle_event(state_timeout, tick, _S, D) -> {keep_state, D}.

next(a) -> b;
next(b) -> c;
next(c) -> a.
