%% A plain gen_server: the OTP side of call_rtt_*, cast_1to1 and idle_1m_bytes.
-module(ss_server).
-behaviour(gen_server).
-export([start/0, init/1, handle_call/3, handle_cast/2]).

start() -> gen_server:start(?MODULE, [], []).

init([]) -> {ok, 0}.

handle_call(ping, _From, N) -> {reply, N, N};
handle_call(get, _From, N) -> {reply, N, N}.

handle_cast(bump, N) -> {noreply, N + 1}.
