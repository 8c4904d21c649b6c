package appattest

import (
	"errors"
	"strconv"
)

// berLabel says which element a byte of a BER encoding belongs to (its
// path of child indexes from the root "r") and which part of it the byte
// is: "tag", "len", "content" (of a primitive) or "eoc".
type berLabel struct{ path, part string }

var errBER = errors.New("not BER")

// labelBER labels every byte of a BER (or DER) encoding. It only
// classifies the flip tests' tolerated bytes; the verifier reads CMS with
// pkcs7 and never with this.
func labelBER(b []byte) ([]berLabel, error) {
	labels := make([]berLabel, len(b))
	end, err := labelElement(b, 0, "r", labels)
	if err == nil && end != len(b) {
		err = errBER
	}
	return labels, err
}

func labelElement(b []byte, off int, path string, labels []berLabel) (int, error) {
	mark := func(from, to int, part string) {
		for i := from; i < to; i++ {
			labels[i] = berLabel{path, part}
		}
	}
	start := off
	if off >= len(b) {
		return 0, errBER
	}
	constructed := b[off]&0x20 != 0
	if b[off]&0x1f == 0x1f { // high tag number form
		for off++; off < len(b) && b[off]&0x80 != 0; off++ {
		}
	}
	off++
	if off >= len(b) {
		return 0, errBER
	}
	mark(start, off, "tag")
	lenStart, n := off, int(b[off])
	off++
	indefinite := n == 0x80
	if n > 0x80 {
		k := n & 0x7f
		if k > 4 || off+k > len(b) {
			return 0, errBER
		}
		n = 0
		for range k {
			n = n<<8 | int(b[off])
			off++
		}
	}
	mark(lenStart, off, "len")
	var err error
	if indefinite {
		if !constructed {
			return 0, errBER
		}
		for i := 0; ; i++ {
			if off+1 < len(b) && b[off] == 0 && b[off+1] == 0 {
				mark(off, off+2, "eoc")
				return off + 2, nil
			}
			if off, err = labelElement(b, off, path+"."+strconv.Itoa(i), labels); err != nil {
				return 0, err
			}
		}
	}
	end := off + n
	if end > len(b) {
		return 0, errBER
	}
	if !constructed {
		mark(off, end, "content")
		return end, nil
	}
	for i := 0; off < end; i++ {
		if off, err = labelElement(b, off, path+"."+strconv.Itoa(i), labels); err != nil {
			return 0, err
		}
	}
	if off != end {
		return 0, errBER
	}
	return end, nil
}
