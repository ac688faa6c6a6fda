// Package expr evaluates Asterisk's $[...] expressions, the language of
// main/ast_expr2.y and ast_expr2.fl, after variable substitution has been
// done on the text.
//
// Operators, from the loosest binding to the tightest (all binary ones are
// left-associative):
//
//	a ? b :: c          conditional (note the double colon, as Asterisk)
//	a | b   a || b      a if a is neither empty nor zero, else b
//	a & b   a && b      a if neither is empty nor zero, else 0
//	= == != < > <= >=   numeric comparison when both sides are numbers,
//	                    else byte-wise string comparison; 1 or 0
//	+ -                 addition, subtraction
//	* / %               multiplication, division (floating point: 7/2 is
//	                    3.5; x/0 is 2147483647), fmod
//	!a  -a              logical complement, negation
//	a : re              anchored POSIX regular expression: the first
//	                    parenthesised group, or the length of the match
//	a =~ re             the same, unanchored
//	a ~~ b              string concatenation
//	( )                 grouping
//	NAME(a,b)           COS SIN TAN ACOS ASIN ATAN ATAN2 POW SQRT FLOOR CEIL
//	                    ROUND RINT TRUNC EXP EXP2 EXP10 LOG LOG2 LOG10
//	                    REMAINDER ABS, else a dialplan function through Func
//
// Operands are numbers ("12", "1.5"), bare words and "quoted strings". The
// quotes stay part of a string (so $["a"] is "a" with its quotes, and
// ${X} = "a" is false for X=a); only the regular expression and
// concatenation operators strip them. Numbers are printed as Asterisk's
// %.18Lg does for integral and short values: 10/4 gives 2.5, 6/3 gives 2.
//
// A syntax error makes Asterisk's expression evaluate to "0"; Eval returns
// "0" then, with a *SyntaxError describing the problem.
package expr
