#include "textflag.h"

// func G() uintptr
TEXT ·G(SB),NOSPLIT,$0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET

// func num(g, off uintptr) uint64
TEXT ·num(SB),NOSPLIT,$0-24
	MOVQ p+0(FP), AX
	ADDQ off+8(FP), AX
	MOVQ (AX), AX
	MOVQ AX, ret+16(FP)
	RET
