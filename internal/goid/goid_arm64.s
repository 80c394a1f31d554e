#include "textflag.h"

// func G() uintptr
TEXT ·G(SB),NOSPLIT,$0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET

// func num(g, off uintptr) uint64
TEXT ·num(SB),NOSPLIT,$0-24
	MOVD p+0(FP), R0
	MOVD off+8(FP), R1
	ADD R1, R0
	MOVD (R0), R0
	MOVD R0, ret+16(FP)
	RET
