//! A learning-rate formula written as text: `"min(1, (t + 1) / 5) * 0.5 * (1 + cos(pi * t / 20))"`.
//!
//! PyTorch's `LambdaLR` and `MultiplicativeLR` take a Python function of the scheduler step `t`
//! (`last_epoch`). A config file cannot hold a function, so it holds this: one expression in `t`,
//! parsed and checked when the config is loaded, evaluated in f64 as Python evaluates the same
//! lambda.
//!
//! ```text
//! expr    = term   { ("+" | "-") term }
//! term    = unary  { ("*" | "/") unary }
//! unary   = ("-" | "+") unary | power
//! power   = atom [ ("^" | "**") unary ]          right-associative, binds tighter than unary
//!                                                minus, as Python's `**`: -2^2 = -4, 2^-1 = 0.5
//! atom    = number | "t" | "pi" | "e" | name "(" expr { "," expr } ")" | "(" expr ")"
//! name    = sin cos tan exp ln log10 sqrt abs floor ceil (one argument), min max pow (two)
//! ```
//!
//! Python's `x / 0` raises; here it gives an infinity, and [`Formula::eval`]'s callers refuse a
//! value that is not finite. Every function comes from the `libm` crate (see `math.rs`), so a
//! formula gives the same bits on every CPU; each is within 1 ulp, as Python's `math` module is,
//! so the values match Python's to about 1e-15 relative.
//!
//! Hostile input is bounded: at most `MAX_LEN` (1000) characters and `MAX_DEPTH` (64) levels of nesting,
//! so that neither a long line nor `((((…` can exhaust memory or the stack.

use std::fmt;

/// The longest formula accepted, in characters.
pub const MAX_LEN: usize = 1000;

/// The deepest nesting accepted (parentheses, unary signs, powers and function calls).
pub const MAX_DEPTH: usize = 64;

/// The names a formula may call, with their number of arguments.
pub const FUNCTIONS: [(&str, usize); 13] = [
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("exp", 1),
    ("ln", 1),
    ("log10", 1),
    ("sqrt", 1),
    ("abs", 1),
    ("floor", 1),
    ("ceil", 1),
    ("min", 2),
    ("max", 2),
    ("pow", 2),
];

/// A parsed formula: the text it came from and its expression tree.
#[derive(Clone, PartialEq)]
pub struct Formula {
    text: String,
    expr: Expr,
}

/// Why a formula was refused: what, and at which character (1-based column).
#[derive(Debug, Clone, PartialEq)]
pub struct FormulaError {
    /// The 1-based column (in characters) where the problem starts.
    pub column: usize,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FormulaError {}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Exp,
    Ln,
    Log10,
    Sqrt,
    Abs,
    Floor,
    Ceil,
    Min,
    Max,
    Pow,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Number(f64),
    T,
    Neg(Box<Expr>),
    Binary(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

impl Formula {
    /// Parses `text`. Refuses an empty or over-long text, a syntax error, an unknown name, a
    /// function called with the wrong number of arguments, and nesting deeper than `MAX_DEPTH` (64),
    /// each with the column where it starts.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_LEN {
            return Err(FormulaError {
                column: MAX_LEN + 1,
                message: format!(
                    "the formula is {} characters long; at most {MAX_LEN} are accepted",
                    chars.len()
                ),
            });
        }
        let tokens = tokenize(&chars)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
            depth: 0,
            end_column: chars.len() + 1,
        };
        if tokens.is_empty() {
            return Err(parser.error_here("the formula is empty; write an expression in t"));
        }
        let expr = parser.expr()?;
        if let Some(token) = tokens.get(parser.at) {
            return Err(FormulaError {
                column: token.column,
                message: format!(
                    "unexpected {} after a complete expression",
                    token.kind.describe()
                ),
            });
        }
        Ok(Formula {
            text: text.to_string(),
            expr,
        })
    }

    /// The value at scheduler step `t`, in f64 (not checked for being finite: callers decide).
    pub fn eval(&self, t: f64) -> f64 {
        eval(&self.expr, t)
    }

    /// The text the formula was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "formula({:?})", self.text)
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn eval(expr: &Expr, t: f64) -> f64 {
    match expr {
        Expr::Number(v) => *v,
        Expr::T => t,
        Expr::Neg(inner) => -eval(inner, t),
        Expr::Binary(op, a, b) => {
            let (a, b) = (eval(a, t), eval(b, t));
            match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div => a / b,
                Op::Pow => libm::pow(a, b),
            }
        }
        Expr::Call(func, args) => {
            let x = eval(&args[0], t);
            let y = || eval(&args[1], t);
            match func {
                Func::Sin => libm::sin(x),
                Func::Cos => libm::cos(x),
                Func::Tan => libm::tan(x),
                Func::Exp => libm::exp(x),
                Func::Ln => libm::log(x),
                Func::Log10 => libm::log10(x),
                Func::Sqrt => libm::sqrt(x),
                Func::Abs => x.abs(),
                Func::Floor => x.floor(),
                Func::Ceil => x.ceil(),
                // Python's min(a, b) returns a unless b < a; max(a, b) returns a unless b > a.
                Func::Min => {
                    let y = y();
                    if y < x {
                        y
                    } else {
                        x
                    }
                }
                Func::Max => {
                    let y = y();
                    if y > x {
                        y
                    } else {
                        x
                    }
                }
                Func::Pow => libm::pow(x, y()),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Number(f64),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Comma,
    Open,
    Close,
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Number(v) => format!("number {v}"),
            TokenKind::Name(name) => format!("name `{name}`"),
            TokenKind::Plus => "`+`".to_string(),
            TokenKind::Minus => "`-`".to_string(),
            TokenKind::Star => "`*`".to_string(),
            TokenKind::Slash => "`/`".to_string(),
            TokenKind::Caret => "`^`".to_string(),
            TokenKind::Comma => "`,`".to_string(),
            TokenKind::Open => "`(`".to_string(),
            TokenKind::Close => "`)`".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokenKind,
    column: usize,
}

fn tokenize(chars: &[char]) -> Result<Vec<Token>, FormulaError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let single = match c {
            '+' => Some(TokenKind::Plus),
            '-' => Some(TokenKind::Minus),
            '/' => Some(TokenKind::Slash),
            '^' => Some(TokenKind::Caret),
            ',' => Some(TokenKind::Comma),
            '(' => Some(TokenKind::Open),
            ')' => Some(TokenKind::Close),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
        } else if let Some(kind) = single {
            tokens.push(Token { kind, column });
            i += 1;
        } else if c == '*' {
            // `**` is Python's power, so a formula copied from a lambda keeps working.
            let kind = if chars.get(i + 1) == Some(&'*') {
                i += 1;
                TokenKind::Caret
            } else {
                TokenKind::Star
            };
            tokens.push(Token { kind, column });
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            // An exponent: e or E, an optional sign, then digits (`1e-3`). A bare `e` after a
            // number is not taken, so that `2e` is the number 2 followed by the name `e`.
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let value = text.parse::<f64>().map_err(|_| FormulaError {
                column,
                message: format!("`{text}` is not a number"),
            })?;
            tokens.push(Token {
                kind: TokenKind::Number(value),
                column,
            });
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                kind: TokenKind::Name(chars[start..i].iter().collect()),
                column,
            });
        } else {
            return Err(FormulaError {
                column,
                message: format!(
                    "unexpected character `{c}`; a formula uses numbers, t, pi, e, + - * / ^, \
                     parentheses and the functions {}",
                    function_list()
                ),
            });
        }
    }
    Ok(tokens)
}

fn function_list() -> String {
    FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    end_column: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.at).map(|token| &token.kind)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.end_column, |token| token.column)
    }

    fn error_here(&self, message: &str) -> FormulaError {
        FormulaError {
            column: self.column(),
            message: message.to_string(),
        }
    }

    /// Counts one more level of nesting, refusing past `MAX_DEPTH`.
    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(
                self.error_here(&format!("the formula nests deeper than {MAX_DEPTH} levels"))
            );
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some(TokenKind::Plus) => Op::Add,
                Some(TokenKind::Minus) => Op::Sub,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.term()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(TokenKind::Star) => Op::Mul,
                Some(TokenKind::Slash) => Op::Div,
                _ => return Ok(left),
            };
            self.at += 1;
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            Some(TokenKind::Minus) => {
                self.at += 1;
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Neg(Box::new(inner)))
            }
            Some(TokenKind::Plus) => {
                self.at += 1;
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, FormulaError> {
        let base = self.atom()?;
        if self.peek() != Some(&TokenKind::Caret) {
            return Ok(base);
        }
        self.at += 1;
        self.enter()?;
        let exponent = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Binary(Op::Pow, Box::new(base), Box::new(exponent)))
    }

    fn atom(&mut self) -> Result<Expr, FormulaError> {
        let column = self.column();
        let Some(kind) = self.peek().cloned() else {
            return Err(self.error_here("the formula ends where a value was expected"));
        };
        self.at += 1;
        match kind {
            TokenKind::Number(v) => Ok(Expr::Number(v)),
            TokenKind::Open => {
                self.enter()?;
                let inner = self.expr()?;
                self.depth -= 1;
                self.expect_close(column)?;
                Ok(inner)
            }
            TokenKind::Name(name) => self.name(&name, column),
            other => Err(FormulaError {
                column,
                message: format!("expected a value, found {}", other.describe()),
            }),
        }
    }

    fn name(&mut self, name: &str, column: usize) -> Result<Expr, FormulaError> {
        match name {
            "t" => return Ok(Expr::T),
            "pi" => return Ok(Expr::Number(std::f64::consts::PI)),
            "e" => return Ok(Expr::Number(std::f64::consts::E)),
            _ => {}
        }
        let Some((func, arity)) = function(name) else {
            return Err(FormulaError {
                column,
                message: format!(
                    "unknown name `{name}`; a formula knows t (the scheduler step), pi, e and \
                     the functions {}",
                    function_list()
                ),
            });
        };
        if self.peek() != Some(&TokenKind::Open) {
            return Err(FormulaError {
                column,
                message: format!("`{name}` is a function: write {name}(...)"),
            });
        }
        let open = self.column();
        self.at += 1;
        self.enter()?;
        let mut args = vec![self.expr()?];
        while self.peek() == Some(&TokenKind::Comma) {
            self.at += 1;
            args.push(self.expr()?);
        }
        self.depth -= 1;
        self.expect_close(open)?;
        if args.len() != arity {
            return Err(FormulaError {
                column,
                message: format!(
                    "`{name}` takes {arity} argument{}, got {}",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                ),
            });
        }
        Ok(Expr::Call(func, args))
    }

    fn expect_close(&mut self, open_column: usize) -> Result<(), FormulaError> {
        if self.peek() == Some(&TokenKind::Close) {
            self.at += 1;
            return Ok(());
        }
        let found = match self.peek() {
            Some(kind) => format!("found {}", kind.describe()),
            None => "the formula ends".to_string(),
        };
        Err(self.error_here(&format!(
            "expected `)` to close the `(` at column {open_column}; {found}"
        )))
    }
}

fn function(name: &str) -> Option<(Func, usize)> {
    let func = match name {
        "sin" => Func::Sin,
        "cos" => Func::Cos,
        "tan" => Func::Tan,
        "exp" => Func::Exp,
        "ln" => Func::Ln,
        "log10" => Func::Log10,
        "sqrt" => Func::Sqrt,
        "abs" => Func::Abs,
        "floor" => Func::Floor,
        "ceil" => Func::Ceil,
        "min" => Func::Min,
        "max" => Func::Max,
        "pow" => Func::Pow,
        _ => return None,
    };
    let arity = FUNCTIONS
        .iter()
        .find(|(known, _)| *known == name)
        .map_or(1, |(_, arity)| *arity);
    Some((func, arity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, t: f64) -> f64 {
        match Formula::parse(text) {
            Ok(formula) => formula.eval(t),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn refused(text: &str) -> FormulaError {
        match Formula::parse(text) {
            Ok(formula) => panic!("{text} parsed as {:?}", formula.expr),
            Err(e) => e,
        }
    }

    #[test]
    fn precedence_follows_python() {
        assert_eq!(value("1 + 2 * 3", 0.0), 7.0);
        assert_eq!(value("(1 + 2) * 3", 0.0), 9.0);
        assert_eq!(value("8 / 4 / 2", 0.0), 1.0);
        assert_eq!(value("10 - 4 - 3", 0.0), 3.0);
        // Power is right-associative and binds tighter than unary minus, as Python's `**`.
        assert_eq!(value("2 ^ 3 ^ 2", 0.0), 512.0);
        assert_eq!(value("-2 ^ 2", 0.0), -4.0);
        assert_eq!(value("2 ^ -1", 0.0), 0.5);
        assert_eq!(value("2 ** 3", 0.0), 8.0);
        assert_eq!(value("- - 3", 0.0), 3.0);
        assert_eq!(value("2 * -t", 3.0), -6.0);
    }

    #[test]
    fn names_numbers_and_functions() {
        assert_eq!(value("pi", 0.0), std::f64::consts::PI);
        assert_eq!(value("e", 0.0), std::f64::consts::E);
        assert_eq!(
            value("1e-3 + .5 + 5. + 2E2", 0.0),
            0.001 + 0.5 + 5.0 + 200.0
        );
        assert_eq!(value("min(1, (t + 1) / 5)", 2.0), 0.6);
        assert_eq!(value("max(t, 2)", 7.0), 7.0);
        assert_eq!(value("pow(2, t)", 10.0), 1024.0);
        assert_eq!(value("floor(t / 3) + ceil(t / 3)", 4.0), 3.0);
        assert_eq!(value("abs(-t) + sqrt(16)", 2.0), 6.0);
        assert_eq!(value("ln(e) + log10(1000)", 0.0), 4.0);
        assert_eq!(value("cos(0) + sin(0) + tan(0) + exp(0)", 0.0), 2.0);
    }

    #[test]
    fn errors_name_the_column_and_the_problem() {
        let e = refused("1 + foo(t)");
        assert_eq!(e.column, 5);
        assert!(e.message.contains("unknown name `foo`"), "{e}");
        let e = refused("min(1)");
        assert_eq!(e.column, 1);
        assert!(e.message.contains("takes 2 arguments, got 1"), "{e}");
        let e = refused("(1 + t");
        assert_eq!(e.column, 7);
        assert!(e.message.contains("close the `(` at column 1"), "{e}");
        let e = refused("1 + * 2");
        assert_eq!(e.column, 5);
        assert!(e.message.contains("expected a value, found `*`"), "{e}");
        let e = refused("t t");
        assert_eq!(e.column, 3);
        let e = refused("2 $ t");
        assert_eq!(e.column, 3);
        assert!(e.message.contains("unexpected character `$`"), "{e}");
        let e = refused("cos + 1");
        assert!(e.message.contains("write cos(...)"), "{e}");
        assert!(refused("").message.contains("empty"));
        assert!(refused("   ").message.contains("empty"));
        assert!(refused("1.2.3").message.contains("not a number"));
        assert_eq!(refused("t +").column, 4);
    }

    #[test]
    fn hostile_lengths_and_depths_are_refused_without_overflow() {
        let deep = format!("{}t{}", "(".repeat(300), ")".repeat(300));
        assert!(refused(&deep).message.contains("deeper than 64"));
        let minus = format!("{}t", "-".repeat(300));
        assert!(refused(&minus).message.contains("deeper than 64"));
        let powers = vec!["2"; 300].join("^");
        assert!(refused(&powers).message.contains("deeper than 64"));
        let calls = format!("{}t{}", "abs(".repeat(150), ")".repeat(150));
        assert!(refused(&calls).message.contains("deeper than 64"));
        let long = "t+".repeat(600) + "t";
        assert!(refused(&long).message.contains("at most 1000"));
        let ok = format!("{}t{}", "(".repeat(64), ")".repeat(64));
        assert_eq!(value(&ok, 1.5), 1.5);
    }

    #[test]
    fn the_text_is_kept_for_configs_and_messages() {
        let text = "0.95 ^ t";
        let formula = Formula::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(formula.text(), text);
        assert_eq!(formula.to_string(), text);
        assert_eq!(format!("{formula:?}"), "formula(\"0.95 ^ t\")");
    }
}
