// Command abcivectors prints ABCI request and response encodings made by CometBFT's own
// Go types, as JSON: each vector is one framed message (uvarint length prefix + protobuf
// Request or Response) as the socket protocol carries it. tests/test_abci_codec.py builds
// the same messages in Python and checks that they encode to these bytes and decode back.
//
// Regenerate (make abci-vectors):
//
//	cd tests/vectors/abci && go run . > vectors.json
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	pc "github.com/cometbft/cometbft/proto/tendermint/crypto"
	pt "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/version"
	"github.com/cosmos/gogoproto/proto"
)

type vector struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Framed string `json:"framed"`
}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var (
	t1   = time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	val1 = abci.Validator{Address: rep(0xA1, 20), Power: 10}
	val2 = abci.Validator{Address: rep(0xA2, 20), Power: 30}
	ed   = pc.PublicKey{Sum: &pc.PublicKey_Ed25519{Ed25519: rep(0x01, 32)}}
	secp = pc.PublicKey{Sum: &pc.PublicKey_Secp256K1{Secp256K1: rep(0x02, 33)}}
	misb = []abci.Misbehavior{{Type: abci.MisbehaviorType_DUPLICATE_VOTE, Validator: val2,
		Height: 3, Time: t1, TotalVotingPower: 40}}
	commit = abci.CommitInfo{Round: 1, Votes: []abci.VoteInfo{
		{Validator: val1, BlockIdFlag: pt.BlockIDFlagCommit},
		{Validator: val2, BlockIdFlag: pt.BlockIDFlagAbsent}}}
	params = pt.ConsensusParams{
		Block:     &pt.BlockParams{MaxBytes: 22020096, MaxGas: -1},
		Evidence:  &pt.EvidenceParams{MaxAgeNumBlocks: 100000, MaxAgeDuration: 48 * time.Hour, MaxBytes: 1048576},
		Validator: &pt.ValidatorParams{PubKeyTypes: []string{"ed25519"}},
		Version:   &pt.VersionParams{App: 1},
		Abci:      &pt.ABCIParams{VoteExtensionsEnableHeight: 0},
	}
	event = abci.Event{Type: "transfer", Attributes: []abci.EventAttribute{
		{Key: "sender", Value: "rwa1abc", Index: true}, {Key: "amount", Value: "", Index: false}}}
)

func requests() map[string]*abci.Request {
	return map[string]*abci.Request{
		"echo":  abci.ToRequestEcho("hello ✓"),
		"flush": abci.ToRequestFlush(),
		"info": abci.ToRequestInfo(&abci.RequestInfo{Version: version.TMCoreSemVer,
			BlockVersion: version.BlockProtocol, P2PVersion: version.P2PProtocol, AbciVersion: version.ABCIVersion}),
		"init_chain": abci.ToRequestInitChain(&abci.RequestInitChain{Time: t1, ChainId: "rwachain-localnet",
			ConsensusParams: &params, Validators: []abci.ValidatorUpdate{{PubKey: ed, Power: 10}, {PubKey: secp, Power: 0}},
			AppStateBytes: []byte(`{"a":1}`), InitialHeight: 1}),
		"query": abci.ToRequestQuery(&abci.RequestQuery{Data: []byte{0, 1}, Path: "/store/key", Height: 42, Prove: true}),
		"check_tx_new":     abci.ToRequestCheckTx(&abci.RequestCheckTx{Tx: []byte("tx1"), Type: abci.CheckTxType_New}),
		"check_tx_recheck": abci.ToRequestCheckTx(&abci.RequestCheckTx{Tx: []byte("tx2"), Type: abci.CheckTxType_Recheck}),
		"commit":           abci.ToRequestCommit(),
		"list_snapshots":   abci.ToRequestListSnapshots(&abci.RequestListSnapshots{}),
		"offer_snapshot": abci.ToRequestOfferSnapshot(&abci.RequestOfferSnapshot{Snapshot: &abci.Snapshot{
			Height: 1000, Format: 1, Chunks: 3, Hash: rep(0x33, 32), Metadata: []byte("m")}, AppHash: rep(0x44, 32)}),
		"load_snapshot_chunk":  abci.ToRequestLoadSnapshotChunk(&abci.RequestLoadSnapshotChunk{Height: 1000, Format: 1, Chunk: 2}),
		"apply_snapshot_chunk": abci.ToRequestApplySnapshotChunk(&abci.RequestApplySnapshotChunk{Index: 2, Chunk: []byte("chunk"), Sender: "peer"}),
		"prepare_proposal": abci.ToRequestPrepareProposal(&abci.RequestPrepareProposal{MaxTxBytes: 1048576,
			Txs: [][]byte{[]byte("a"), {}, []byte("ccc")},
			LocalLastCommit: abci.ExtendedCommitInfo{Round: 1, Votes: []abci.ExtendedVoteInfo{
				{Validator: val1, VoteExtension: []byte("ext"), ExtensionSignature: []byte("sig"), BlockIdFlag: pt.BlockIDFlagCommit},
				{Validator: val2, BlockIdFlag: pt.BlockIDFlagNil}}},
			Misbehavior: misb, Height: 7, Time: t1, NextValidatorsHash: rep(0x55, 32), ProposerAddress: rep(0xA1, 20)}),
		"process_proposal": abci.ToRequestProcessProposal(&abci.RequestProcessProposal{Txs: [][]byte{[]byte("a")},
			ProposedLastCommit: commit, Misbehavior: misb, Hash: rep(0x66, 32), Height: 7, Time: t1,
			NextValidatorsHash: rep(0x55, 32), ProposerAddress: rep(0xA2, 20)}),
		"extend_vote": abci.ToRequestExtendVote(&abci.RequestExtendVote{Hash: rep(0x66, 32), Height: 7, Time: t1,
			Txs: [][]byte{[]byte("a")}, ProposedLastCommit: commit, NextValidatorsHash: rep(0x55, 32), ProposerAddress: rep(0xA1, 20)}),
		"verify_vote_extension": abci.ToRequestVerifyVoteExtension(&abci.RequestVerifyVoteExtension{Hash: rep(0x66, 32),
			ValidatorAddress: rep(0xA2, 20), Height: 7, VoteExtension: []byte("ext")}),
		"finalize_block": abci.ToRequestFinalizeBlock(&abci.RequestFinalizeBlock{Txs: [][]byte{[]byte("a"), []byte("bb")},
			DecidedLastCommit: commit, Misbehavior: misb, Hash: rep(0x66, 32), Height: 8, Time: t1,
			NextValidatorsHash: rep(0x55, 32), ProposerAddress: rep(0xA1, 20)}),
		"finalize_block_zero": abci.ToRequestFinalizeBlock(&abci.RequestFinalizeBlock{}),
	}
}

func responses() map[string]*abci.Response {
	return map[string]*abci.Response{
		"exception": abci.ToResponseException("boom"),
		"echo":      abci.ToResponseEcho("hello ✓"),
		"flush":     abci.ToResponseFlush(),
		"info": abci.ToResponseInfo(&abci.ResponseInfo{Data: "rwachain", Version: "0.1.0", AppVersion: 1,
			LastBlockHeight: 12, LastBlockAppHash: rep(0x77, 32)}),
		"info_empty": abci.ToResponseInfo(&abci.ResponseInfo{}),
		"init_chain": abci.ToResponseInitChain(&abci.ResponseInitChain{
			ConsensusParams: &pt.ConsensusParams{Block: &pt.BlockParams{MaxBytes: 4194304, MaxGas: -1}},
			Validators:      []abci.ValidatorUpdate{{PubKey: ed, Power: 10}}, AppHash: rep(0x77, 32)}),
		"query": abci.ToResponseQuery(&abci.ResponseQuery{Code: 3, Log: "not found", Info: "i", Index: -1,
			Key: []byte("k"), Value: []byte("v"), ProofOps: &pc.ProofOps{Ops: []pc.ProofOp{{Type: "rwa:tree", Key: []byte("k"), Data: []byte("d")}}},
			Height: 42, Codespace: "rwachain"}),
		"check_tx": abci.ToResponseCheckTx(&abci.ResponseCheckTx{Code: 10, Data: []byte("d"), Log: "replayed nonce", Info: "i",
			GasWanted: 5, GasUsed: 6, Events: []abci.Event{event}, Codespace: "rwachain"}),
		"commit":         abci.ToResponseCommit(&abci.ResponseCommit{RetainHeight: 5}),
		"list_snapshots": abci.ToResponseListSnapshots(&abci.ResponseListSnapshots{Snapshots: []*abci.Snapshot{{Height: 1000, Format: 1, Chunks: 3, Hash: rep(0x33, 32)}, {Height: 2000}}}),
		"offer_snapshot": abci.ToResponseOfferSnapshot(&abci.ResponseOfferSnapshot{Result: abci.ResponseOfferSnapshot_ACCEPT}),
		"load_snapshot_chunk": abci.ToResponseLoadSnapshotChunk(&abci.ResponseLoadSnapshotChunk{Chunk: []byte("chunk")}),
		"apply_snapshot_chunk": abci.ToResponseApplySnapshotChunk(&abci.ResponseApplySnapshotChunk{Result: abci.ResponseApplySnapshotChunk_RETRY,
			RefetchChunks: []uint32{1, 300}, RejectSenders: []string{"a", "b"}}),
		"prepare_proposal":      abci.ToResponsePrepareProposal(&abci.ResponsePrepareProposal{Txs: [][]byte{[]byte("a"), {}, []byte("ccc")}}),
		"process_proposal":      abci.ToResponseProcessProposal(&abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}),
		"extend_vote":           abci.ToResponseExtendVote(&abci.ResponseExtendVote{VoteExtension: []byte("ext")}),
		"verify_vote_extension": abci.ToResponseVerifyVoteExtension(&abci.ResponseVerifyVoteExtension{Status: abci.ResponseVerifyVoteExtension_ACCEPT}),
		"finalize_block": abci.ToResponseFinalizeBlock(&abci.ResponseFinalizeBlock{Events: []abci.Event{event},
			TxResults: []*abci.ExecTxResult{{Code: 0, Events: []abci.Event{event}}, {Code: 52, Log: "insufficient funds", GasUsed: 9, Codespace: "rwachain"}, {}},
			ValidatorUpdates:      []abci.ValidatorUpdate{{PubKey: ed, Power: 0}},
			ConsensusParamUpdates: &pt.ConsensusParams{Abci: &pt.ABCIParams{VoteExtensionsEnableHeight: 100}},
			AppHash:               rep(0x77, 32)}),
		"finalize_block_empty": abci.ToResponseFinalizeBlock(&abci.ResponseFinalizeBlock{}),
	}
}

func framed(msg proto.Message) string {
	var buf bytes.Buffer
	if err := abci.WriteMessage(msg, &buf); err != nil {
		panic(err)
	}
	return hex.EncodeToString(buf.Bytes())
}

func main() {
	var out []vector
	for _, name := range sortedKeys(requests()) {
		out = append(out, vector{name, "request", framed(requests()[name])})
	}
	for _, name := range sortedKeys(responses()) {
		out = append(out, vector{name, "response", framed(responses()[name])})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"cometbft": version.TMCoreSemVer, "vectors": out}); err != nil {
		panic(err)
	}
}
